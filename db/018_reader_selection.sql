-- Each reader's digest is chosen for them. A daily digest offers every paper of its
-- days that passed the editor's rules (its candidates), in rank order; its global list
-- (digest_papers) is the first PAPERMAIL_MAX_PAPERS of them, and each group of readers
-- gets the best candidates that match its choices. A paper is a candidate of one daily
-- digest at most, so no reader is offered it twice.
CREATE TABLE digest_candidates (
  paper_id  INTEGER PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
  digest_id INTEGER NOT NULL REFERENCES digests (id),
  position  INTEGER NOT NULL,
  -- Its place on Hugging Face's list of its day when the digest was made ("#2 of 48");
  -- null for digests made before places were kept.
  day_rank  INTEGER,
  day_total INTEGER
) STRICT;
CREATE INDEX digest_candidates_by_digest ON digest_candidates (digest_id, position);
INSERT INTO digest_candidates (paper_id, digest_id, position) SELECT paper_id, digest_id, position FROM digest_papers WHERE true
  ON CONFLICT (paper_id) DO NOTHING;

-- How many papers each group of a digest may get from one daily digest (the editor's
-- PAPERMAIL_MAX_PAPERS when it was made); null: as many as its global list holds.
ALTER TABLE digests ADD COLUMN max_papers INTEGER;

-- The day's top papers a group of readers with topics sees under its own ("Also trending").
ALTER TABLE digest_groups ADD COLUMN also_ids TEXT NOT NULL DEFAULT '[]';

-- How many of the day's top papers outside their topics a reader wants to see (0: none).
ALTER TABLE subscribers ADD COLUMN also_trending INTEGER NOT NULL DEFAULT 3 CHECK (also_trending BETWEEN 0 AND 10);

-- When Hugging Face marked the paper withdrawn (daily_papers' withdrawnAt): it goes into no digest.
ALTER TABLE papers ADD COLUMN withdrawn_at TEXT;

-- What became of a paper moves out of the papers row into a narrow table: a digest
-- records the fate of every paper of its days, and rewriting a wide row (abstract and
-- all) for each was most of a freeze's cost.
CREATE TABLE paper_fates (
  paper_id  INTEGER PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
  -- 'sent' once a daily digest holds it; 'passed-over' when a digest of its days had
  -- better papers (or it was below the upvote floor); 'expired' when its day had gone
  -- by before any digest covered it. A paper with a fate is never sent later as news.
  fate      TEXT NOT NULL CHECK (fate IN ('sent', 'passed-over', 'expired')),
  note      TEXT,
  digest_id INTEGER REFERENCES digests (id),
  at        TEXT
);
INSERT INTO paper_fates (paper_id, fate, note, digest_id, at)
  SELECT id, fate, fate_note, fate_digest_id, fate_at FROM papers WHERE fate IS NOT NULL;

DROP INDEX papers_waiting;
DROP INDEX papers_by_list_day;
ALTER TABLE papers DROP COLUMN fate;
ALTER TABLE papers DROP COLUMN fate_note;
ALTER TABLE papers DROP COLUMN fate_digest_id;
ALTER TABLE papers DROP COLUMN fate_at;
-- Papers by day with their scope: a freeze reads its days' range, a count of a backlog
-- reads the index alone.
CREATE INDEX papers_by_list_day ON papers (list_day, demo);

-- Expiring a backlog is one row, not one write per paper: a digest that reaches back
-- over the newest list days records the day before which every waiting paper has
-- expired. A paper without a fate that was listed before the newest such day of its
-- scope is expired, with the note of the first mark that covered its day.
CREATE TABLE paper_expiries (
  id           INTEGER PRIMARY KEY,
  before_day   TEXT NOT NULL,
  -- 1 when the digest that made it considered demo papers (bundled samples) too.
  include_demo INTEGER NOT NULL CHECK (include_demo IN (0, 1)),
  note         TEXT NOT NULL,
  digest_id    INTEGER REFERENCES digests (id),
  at           TEXT NOT NULL
);

-- The day before which a paper without a fate has expired: one for real papers, one
-- for demo papers (only marks made while demo papers counted reach those).
CREATE VIEW expired_before AS SELECT
  coalesce((SELECT max(before_day) FROM paper_expiries), '') AS real_day,
  coalesce((SELECT max(before_day) FROM paper_expiries WHERE include_demo = 1), '') AS demo_day;

-- Papers waiting for a digest: neither sent, passed over nor expired.
CREATE VIEW waiting_papers AS
  SELECT papers.* FROM papers, expired_before
  WHERE NOT EXISTS (SELECT 1 FROM paper_fates f WHERE f.paper_id = papers.id)
    AND papers.list_day >= CASE papers.demo WHEN 0 THEN expired_before.real_day ELSE expired_before.demo_day END;

-- Papers expired by a mark, each with the mark that covered its day first.
CREATE VIEW marked_expired AS
  SELECT papers.id AS paper_id, e.note, e.digest_id, e.at FROM papers, expired_before
  JOIN paper_expiries e ON e.id = (
    SELECT min(x.id) FROM paper_expiries x WHERE x.before_day > papers.list_day AND (papers.demo = 0 OR x.include_demo = 1))
  WHERE papers.list_day < CASE papers.demo WHEN 0 THEN expired_before.real_day ELSE expired_before.demo_day END
    AND NOT EXISTS (SELECT 1 FROM paper_fates f WHERE f.paper_id = papers.id);

-- A paper belongs to the day Hugging Face listed it (its list day); a daily digest is
-- the news of the list days completed since the previous one.
ALTER TABLE papers ADD COLUMN list_day TEXT;
UPDATE papers SET list_day = coalesce(
  (SELECT coalesce(nullif(page_date, ''), substr(captured_at, 1, 10)) FROM dumps WHERE dumps.id = papers.first_dump_id),
  substr(first_seen_at, 1, 10));

-- When the upvote count was captured; NULL while no capture showed one (page text
-- without trailers). The newest captured count wins, whatever order files arrive in.
-- Papers stored before this knew no difference: their count is taken as captured.
ALTER TABLE papers ADD COLUMN upvotes_at TEXT;
UPDATE papers SET upvotes_at = captured_at;

-- What became of a paper: NULL while it waits for a digest; 'sent' once a daily digest
-- holds it; 'passed-over' when a digest of its days had better papers (or it was below
-- the upvote floor); 'expired' when its day had gone by before any digest covered it.
-- A retired paper is never sent later as news.
ALTER TABLE papers ADD COLUMN fate TEXT CHECK (fate IN ('sent', 'passed-over', 'expired'));
ALTER TABLE papers ADD COLUMN fate_note TEXT;
ALTER TABLE papers ADD COLUMN fate_digest_id INTEGER;
ALTER TABLE papers ADD COLUMN fate_at TEXT;
UPDATE papers SET fate = 'sent', fate_digest_id = (SELECT digest_id FROM digest_papers WHERE paper_id = papers.id)
  WHERE id IN (SELECT paper_id FROM digest_papers);

-- The papers waiting for a digest, by day: a freeze reads only these.
CREATE INDEX papers_waiting ON papers (list_day) WHERE fate IS NULL;
CREATE INDEX papers_by_list_day ON papers (list_day);

-- The list days a digest covers (a weekly edition: those of the daily digests it gathers).
ALTER TABLE digests ADD COLUMN days_from TEXT;
ALTER TABLE digests ADD COLUMN days_through TEXT;

-- How far daily digests have covered the list days: the newest day a sent paper had.
INSERT INTO settings (name, value)
  SELECT 'daily_covered_through', max(p.list_day) FROM digest_papers dp JOIN papers p ON p.id = dp.paper_id
  HAVING max(p.list_day) IS NOT NULL;

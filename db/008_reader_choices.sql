-- Each reader's own digest: what they choose, and how far the papers offered to them reach.
ALTER TABLE subscribers ADD COLUMN cadence TEXT NOT NULL DEFAULT 'daily' CHECK (cadence IN ('daily', 'weekly'));
-- A JSON array of lower-case topics; empty means every paper.
ALTER TABLE subscribers ADD COLUMN topics TEXT NOT NULL DEFAULT '[]';
ALTER TABLE subscribers ADD COLUMN min_upvotes INTEGER NOT NULL DEFAULT 0 CHECK (min_upvotes >= 0);
ALTER TABLE subscribers ADD COLUMN format TEXT NOT NULL DEFAULT 'full' CHECK (format IN ('full', 'compact'));
-- The newest daily digest whose papers this reader has been offered, by a daily or a
-- weekly edition. The next edition offers the daily digests after it, so a paper is
-- offered once, whatever the reader switches. Readers start at the newest digest when
-- they become active: a paper published before they subscribed is not owed to them.
ALTER TABLE subscribers ADD COLUMN covered_through INTEGER NOT NULL DEFAULT 0;
UPDATE subscribers SET covered_through = (SELECT coalesce(max(id), 0) FROM digests);

-- Whatever makes someone active (the web, the CLI, an import, a reactivation) starts the
-- cursor, so no path can forget it. It only moves forward.
CREATE TRIGGER subscribers_start_on_insert AFTER INSERT ON subscribers WHEN NEW.status = 'active'
BEGIN
  UPDATE subscribers SET covered_through = max(covered_through, (SELECT coalesce(max(id), 0) FROM digests)) WHERE id = NEW.id;
END;
CREATE TRIGGER subscribers_start_on_activate AFTER UPDATE OF status ON subscribers
  WHEN NEW.status = 'active' AND OLD.status <> 'active'
BEGIN
  UPDATE subscribers SET covered_through = max(covered_through, (SELECT coalesce(max(id), 0) FROM digests)) WHERE id = NEW.id;
END;

-- Daily digests hold their papers (digest_papers); a weekly edition gathers the daily
-- digests after `covers_after` up to `covers_through`.
ALTER TABLE digests ADD COLUMN edition TEXT NOT NULL DEFAULT 'daily' CHECK (edition IN ('daily', 'weekly'));
ALTER TABLE digests ADD COLUMN covers_after INTEGER;
ALTER TABLE digests ADD COLUMN covers_through INTEGER;

-- Readers with the same choices and the same papers owed share one rendering: a group.
-- Its papers are frozen with the edition, in the order they are shown.
CREATE TABLE digest_groups (
  digest_id      INTEGER NOT NULL REFERENCES digests (id),
  group_no       INTEGER NOT NULL,
  choices        TEXT    NOT NULL,
  covers_after   INTEGER NOT NULL,
  covers_through INTEGER NOT NULL,
  paper_ids      TEXT    NOT NULL,
  recipients     INTEGER NOT NULL,
  PRIMARY KEY (digest_id, group_no)
) STRICT;

-- Group 0: the whole digest as frozen (rows frozen before groups existed).
ALTER TABLE deliveries ADD COLUMN group_no INTEGER NOT NULL DEFAULT 0;
-- Claims take a group's rows one after another, so a sender keeps few renderings at once.
DROP INDEX deliveries_queue;
CREATE INDEX deliveries_queue ON deliveries (digest_id, next_attempt_at, group_no) WHERE status = 'queued';

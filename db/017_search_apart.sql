-- The search index moves to a database file of its own (papermail.search.db beside this
-- one; src/store/search-db.ts), written by its own connection: indexing a large dump
-- runs beside the ingest that stores it, instead of after it under the same write lock.
-- It holds no text (contentless FTS5): a search finds ids there and reads the papers here.
DROP TRIGGER IF EXISTS papers_search_delete;
DROP TRIGGER IF EXISTS papers_search_update;
DROP TABLE IF EXISTS papers_search;

-- Papers whose text changed, or that went, after they were indexed: the next catch-up
-- indexes them again (or removes them). New papers are found by their id instead.
CREATE TABLE search_queue (paper_id INTEGER PRIMARY KEY) STRICT;

-- Every paper goes into the new index, by the first catch-up.
UPDATE settings SET value = '0' WHERE name = 'search_indexed_through';
INSERT OR IGNORE INTO settings (name, value) VALUES ('search_indexed_through', '0');

CREATE TRIGGER papers_search_delete AFTER DELETE ON papers
  WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'search_indexed_through')
BEGIN
  INSERT OR IGNORE INTO search_queue (paper_id) VALUES (old.id);
END;
CREATE TRIGGER papers_search_update AFTER UPDATE OF title, abstract, authors, org_name, org_handle, keywords, ai_summary ON papers
  WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'search_indexed_through')
    AND (old.title IS NOT new.title OR old.abstract IS NOT new.abstract OR old.authors IS NOT new.authors
      OR old.org_name IS NOT new.org_name OR old.org_handle IS NOT new.org_handle OR old.keywords IS NOT new.keywords
      OR old.ai_summary IS NOT new.ai_summary)
BEGIN
  INSERT OR IGNORE INTO search_queue (paper_id) VALUES (old.id);
END;

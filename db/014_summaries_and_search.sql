-- What Hugging Face's daily_papers answer says beyond the abstract: its one-line
-- summary (ai_summary) and the code repository's stars (githubStars).
ALTER TABLE papers ADD COLUMN ai_summary TEXT;
ALTER TABLE papers ADD COLUMN github_stars INTEGER;

-- Search over every stored paper: an FTS5 index over the papers table's own text
-- (external content, so no text is stored twice). Authors and keywords are JSON
-- arrays: the tokenizer reads their words and skips the brackets and quotes.
-- remove_diacritics 2: "Schrodinger" finds "Schrödinger".
CREATE VIRTUAL TABLE papers_search USING fts5(
  title, abstract, authors, org_name, org_handle, keywords, ai_summary,
  content = 'papers', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);

-- New papers are indexed in bulk after an ingest has committed (store/search-index.ts),
-- not row by row inside it: indexing a backfill row by row made ingest five times
-- slower and held the write lock all that time. Papers with an id up to this setting
-- are in the index; the triggers keep those in step when their text changes or they go.
INSERT INTO papers_search (papers_search) VALUES ('rebuild');
INSERT INTO settings (name, value) SELECT 'search_indexed_through', coalesce(max(id), 0) FROM papers;

CREATE TRIGGER papers_search_delete AFTER DELETE ON papers
  WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'search_indexed_through')
BEGIN
  INSERT INTO papers_search (papers_search, rowid, title, abstract, authors, org_name, org_handle, keywords, ai_summary)
    VALUES ('delete', old.id, old.title, old.abstract, old.authors, old.org_name, old.org_handle, old.keywords, old.ai_summary);
END;
CREATE TRIGGER papers_search_update AFTER UPDATE OF title, abstract, authors, org_name, org_handle, keywords, ai_summary ON papers
  WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'search_indexed_through')
    AND (old.title IS NOT new.title OR old.abstract IS NOT new.abstract OR old.authors IS NOT new.authors
      OR old.org_name IS NOT new.org_name OR old.org_handle IS NOT new.org_handle OR old.keywords IS NOT new.keywords
      OR old.ai_summary IS NOT new.ai_summary)
BEGIN
  INSERT INTO papers_search (papers_search, rowid, title, abstract, authors, org_name, org_handle, keywords, ai_summary)
    VALUES ('delete', old.id, old.title, old.abstract, old.authors, old.org_name, old.org_handle, old.keywords, old.ai_summary);
  INSERT INTO papers_search (rowid, title, abstract, authors, org_name, org_handle, keywords, ai_summary)
    VALUES (new.id, new.title, new.abstract, new.authors, new.org_name, new.org_handle, new.keywords, new.ai_summary);
END;

-- Dump files seen, by content: a file already ingested is recognised by its hash.
CREATE TABLE dumps (
  id             INTEGER PRIMARY KEY,
  sha256         TEXT    NOT NULL UNIQUE,
  path           TEXT    NOT NULL,
  size           INTEGER NOT NULL,
  mtime_ms       INTEGER NOT NULL,
  status         TEXT    NOT NULL CHECK (status IN ('ingested', 'rejected')),
  page_date      TEXT,
  captured_at    TEXT,
  papers         INTEGER NOT NULL DEFAULT 0,
  new_papers     INTEGER NOT NULL DEFAULT 0,
  updated_papers INTEGER NOT NULL DEFAULT 0,
  problems       INTEGER NOT NULL DEFAULT 0,
  error          TEXT,
  ingested_at    TEXT    NOT NULL
) STRICT;
CREATE INDEX dumps_by_path ON dumps (path, size, mtime_ms);

-- One row per paper. Its identity is its normalised title (key); papers are looked up
-- by the short id derived from it (slug), which is indexed instead of the long key.
CREATE TABLE papers (
  id            INTEGER PRIMARY KEY,
  key           TEXT    NOT NULL,
  slug          TEXT    NOT NULL UNIQUE,
  title         TEXT    NOT NULL,
  abstract      TEXT,
  authors_count INTEGER,
  org_handle    TEXT,
  org_name      TEXT,
  published_on  TEXT,
  upvotes       INTEGER NOT NULL DEFAULT 0,
  code_url      TEXT,
  links         TEXT    NOT NULL DEFAULT '[]',
  -- capture time of the dump whose upvotes we hold: an older capture never overwrites them
  captured_at   TEXT    NOT NULL,
  first_seen_at TEXT    NOT NULL,
  last_seen_at  TEXT    NOT NULL,
  first_dump_id INTEGER REFERENCES dumps (id)
) STRICT;
CREATE INDEX papers_by_rank ON papers (upvotes DESC, published_on DESC);

-- Small named values the application keeps, such as the generated signing secret.
CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

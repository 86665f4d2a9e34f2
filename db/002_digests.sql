-- People who get the digest. One model for the CLI and the web flow.
CREATE TABLE subscribers (
  id                 INTEGER PRIMARY KEY,
  email              TEXT    NOT NULL UNIQUE,
  status             TEXT    NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed')),
  source             TEXT    NOT NULL DEFAULT 'cli',
  created_at         TEXT    NOT NULL,
  confirmed_at       TEXT,
  unsubscribed_at    TEXT,
  confirm_token_hash TEXT    UNIQUE,
  confirm_expires_at TEXT,
  confirm_sent_at    TEXT
) STRICT;

-- A digest is frozen once: which papers, in which order. A paper is in one digest at most.
CREATE TABLE digests (
  id              INTEGER PRIMARY KEY,
  created_at      TEXT    NOT NULL,
  subject         TEXT    NOT NULL,
  paper_count     INTEGER NOT NULL,
  recipient_count INTEGER NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('sending', 'done')),
  finished_at     TEXT
) STRICT;

CREATE TABLE digest_papers (
  digest_id INTEGER NOT NULL REFERENCES digests (id),
  paper_id  INTEGER NOT NULL UNIQUE REFERENCES papers (id),
  position  INTEGER NOT NULL,
  PRIMARY KEY (digest_id, position)
) STRICT;

-- The send ledger: one row per (digest, recipient).
-- queued -> sending -> sent | failed | unknown; skipped when the person left before their turn.
CREATE TABLE deliveries (
  digest_id              INTEGER NOT NULL REFERENCES digests (id),
  subscriber_id          INTEGER NOT NULL REFERENCES subscribers (id),
  status                 TEXT    NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unknown', 'skipped')),
  attempts               INTEGER NOT NULL DEFAULT 0,
  next_attempt_at        TEXT    NOT NULL DEFAULT '',
  claimed_by             TEXT,
  unsubscribe_token_hash TEXT    UNIQUE,
  last_error             TEXT,
  updated_at             TEXT    NOT NULL,
  PRIMARY KEY (digest_id, subscriber_id)
) STRICT;
CREATE INDEX deliveries_by_status ON deliveries (digest_id, status, next_attempt_at);

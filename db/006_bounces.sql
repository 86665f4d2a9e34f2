-- papermail: foreign_keys=off
-- Two more ways to stop getting mail: an address that bounces, and one that complained.
-- SQLite cannot widen a CHECK in place: the table is rebuilt (with foreign keys off, as
-- SQLite's ALTER TABLE procedure asks; the migration checks them before committing).
CREATE TABLE subscribers_new (
  id                 INTEGER PRIMARY KEY,
  email              TEXT    NOT NULL UNIQUE,
  status             TEXT    NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained')),
  source             TEXT    NOT NULL DEFAULT 'cli',
  created_at         TEXT    NOT NULL,
  confirmed_at       TEXT,
  unsubscribed_at    TEXT,
  confirm_token_hash TEXT    UNIQUE,
  confirm_expires_at TEXT,
  confirm_sent_at    TEXT,
  -- why and when mail stopped for a bounced, complained or suppressed address
  suppressed_reason  TEXT,
  suppressed_at      TEXT
) STRICT;
INSERT INTO subscribers_new (id, email, status, source, created_at, confirmed_at, unsubscribed_at, confirm_token_hash, confirm_expires_at, confirm_sent_at)
  SELECT id, email, status, source, created_at, confirmed_at, unsubscribed_at, confirm_token_hash, confirm_expires_at, confirm_sent_at FROM subscribers;
DROP TABLE subscribers;
ALTER TABLE subscribers_new RENAME TO subscribers;
CREATE INDEX subscribers_by_status ON subscribers (status);

-- Every bounce or complaint message read, by its Message-ID (or content hash): read twice, counted once.
CREATE TABLE bounce_messages (
  key         TEXT PRIMARY KEY,
  read_at     TEXT NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('applied', 'unrecognised')),
  detail      TEXT
) STRICT;

-- What bounced or complained, for whom: the policy counts these.
CREATE TABLE bounce_events (
  id            INTEGER PRIMARY KEY,
  subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  digest_id     INTEGER,
  kind          TEXT    NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint')),
  status_code   TEXT,
  detail        TEXT,
  source        TEXT    NOT NULL,
  message_key   TEXT,
  at            TEXT    NOT NULL
) STRICT;
CREATE INDEX bounce_events_by_subscriber ON bounce_events (subscriber_id, at);

-- Messages handed to the relay per minute (unix minute): the rolling daily quota.
CREATE TABLE send_buckets (
  minute INTEGER PRIMARY KEY,
  sent   INTEGER NOT NULL
) STRICT;

-- The send rate's next free slot, shared by every connection and process.
CREATE TABLE send_pace (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  next_slot_ms REAL    NOT NULL
) STRICT;

-- What a digest's ledger said before its rows were compacted away.
CREATE TABLE digest_totals (
  digest_id    INTEGER PRIMARY KEY REFERENCES digests (id),
  sent         INTEGER NOT NULL,
  failed       INTEGER NOT NULL,
  unknown      INTEGER NOT NULL,
  skipped      INTEGER NOT NULL,
  compacted_at TEXT    NOT NULL
) STRICT;

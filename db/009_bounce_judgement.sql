-- papermail: foreign_keys=off
-- Bounce judgement: every event has a reason and one of four kinds (a `sender` refusal is
-- our side's, never a reader's), the receiving domain it came from and the proof that tied
-- it to our mail. Reports without proof are kept as `unverified`; auto-replies and delay
-- warnings as `not-a-bounce`. A failed ledger row says whose side refused it, so a run that
-- pauses for refusals of our sender can put those readers back in the queue. An address
-- the operator suppressed says so: only `suppressions remove` brings it back.
CREATE TABLE bounce_events_new (
  id            INTEGER PRIMARY KEY,
  subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  digest_id     INTEGER,
  kind          TEXT    NOT NULL CHECK (kind IN ('hard', 'soft', 'sender', 'complaint')),
  reason        TEXT,
  status_code   TEXT,
  detail        TEXT,
  source        TEXT    NOT NULL,
  message_key   TEXT,
  proof         TEXT,
  domain        TEXT,
  at            TEXT    NOT NULL
) STRICT;
INSERT INTO bounce_events_new (id, subscriber_id, digest_id, kind, reason, status_code, detail, source, message_key, proof, domain, at)
  SELECT e.id, e.subscriber_id, e.digest_id, e.kind, NULL, e.status_code, e.detail, e.source, e.message_key, NULL,
         lower(substr(s.email, instr(s.email, '@') + 1)), e.at
  FROM bounce_events e JOIN subscribers s ON s.id = e.subscriber_id;
DROP TABLE bounce_events;
ALTER TABLE bounce_events_new RENAME TO bounce_events;
CREATE INDEX bounce_events_by_subscriber ON bounce_events (subscriber_id, at);
CREATE INDEX bounce_events_by_kind ON bounce_events (kind, at);

CREATE TABLE bounce_messages_new (
  key         TEXT PRIMARY KEY,
  read_at     TEXT NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('applied', 'unrecognised', 'unverified', 'not-a-bounce')),
  detail      TEXT,
  -- What an unverified report claimed (JSON: shape, entries), for the operator.
  claims      TEXT
) STRICT;
INSERT INTO bounce_messages_new (key, read_at, outcome, detail) SELECT key, read_at, outcome, detail FROM bounce_messages;
DROP TABLE bounce_messages;
ALTER TABLE bounce_messages_new RENAME TO bounce_messages;
CREATE INDEX bounce_messages_by_outcome ON bounce_messages (outcome, read_at);

-- hard, soft or sender, for a row the server refused with 5xx.
ALTER TABLE deliveries ADD COLUMN refusal TEXT;

-- 'operator' for an address put on the suppression list by hand.
ALTER TABLE subscribers ADD COLUMN suppressed_by TEXT;
UPDATE subscribers SET suppressed_by = 'operator' WHERE status = 'unsubscribed' AND suppressed_reason IS NOT NULL;

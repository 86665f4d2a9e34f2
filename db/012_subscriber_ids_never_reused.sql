-- papermail: foreign_keys=off
-- A subscriber's id is in every signed link mailed to them: an id freed by
-- `subscribers remove --forget` must never go to the next subscriber, or the old
-- links would open the new reader's preferences. AUTOINCREMENT never reuses one;
-- the copy below seeds its counter with the highest id in use.
CREATE TABLE subscribers_new (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
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
  suppressed_at      TEXT,
  cadence            TEXT    NOT NULL DEFAULT 'daily' CHECK (cadence IN ('daily', 'weekly')),
  topics             TEXT    NOT NULL DEFAULT '[]',
  min_upvotes        INTEGER NOT NULL DEFAULT 0 CHECK (min_upvotes >= 0),
  format             TEXT    NOT NULL DEFAULT 'full' CHECK (format IN ('full', 'compact')),
  covered_through    INTEGER NOT NULL DEFAULT 0,
  suppressed_by      TEXT
) STRICT;
INSERT INTO subscribers_new (id, email, status, source, created_at, confirmed_at, unsubscribed_at, confirm_token_hash, confirm_expires_at, confirm_sent_at,
                             suppressed_reason, suppressed_at, cadence, topics, min_upvotes, format, covered_through, suppressed_by)
  SELECT id, email, status, source, created_at, confirmed_at, unsubscribed_at, confirm_token_hash, confirm_expires_at, confirm_sent_at,
         suppressed_reason, suppressed_at, cadence, topics, min_upvotes, format, covered_through, suppressed_by FROM subscribers;
DROP TABLE subscribers;
ALTER TABLE subscribers_new RENAME TO subscribers;
CREATE INDEX subscribers_by_status ON subscribers (status);
CREATE TRIGGER subscribers_start_on_insert AFTER INSERT ON subscribers WHEN NEW.status = 'active'
BEGIN
  UPDATE subscribers SET covered_through = max(covered_through, (SELECT coalesce(max(id), 0) FROM digests)) WHERE id = NEW.id;
END;
CREATE TRIGGER subscribers_start_on_activate AFTER UPDATE OF status ON subscribers
  WHEN NEW.status = 'active' AND OLD.status <> 'active'
BEGIN
  UPDATE subscribers SET covered_through = max(covered_through, (SELECT coalesce(max(id), 0) FROM digests)) WHERE id = NEW.id;
END;

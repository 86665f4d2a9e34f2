-- A reader's consent has one owner (src/store/consent.ts, after the table in
-- src/model/consent.ts): every event is recorded with who caused it and what it did,
-- including the ones that changed nothing (an unsubscribe of a complainer).
CREATE TABLE consent_events (
  id            INTEGER PRIMARY KEY,
  subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  at            TEXT    NOT NULL,
  event         TEXT    NOT NULL,
  actor         TEXT    NOT NULL,
  from_status   TEXT,
  to_status     TEXT,
  outcome       TEXT    NOT NULL CHECK (outcome IN ('changed', 'same', 'refused')),
  detail        TEXT
) STRICT;
CREATE INDEX consent_events_by_subscriber ON consent_events (subscriber_id, id);

-- Every confirmation email that reached the mail server: the limits per address and per
-- client count these, whatever happened to the address in between. The client is a keyed
-- hash of the web client's address (NULL for the operator), never the address itself.
CREATE TABLE confirmation_sends (
  id            INTEGER PRIMARY KEY,
  subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  client        TEXT,
  sent_at       TEXT    NOT NULL
) STRICT;
CREATE INDEX confirmation_sends_by_subscriber ON confirmation_sends (subscriber_id, sent_at);
CREATE INDEX confirmation_sends_by_client ON confirmation_sends (client, sent_at) WHERE client IS NOT NULL;
INSERT INTO confirmation_sends (subscriber_id, client, sent_at)
  SELECT id, NULL, confirm_sent_at FROM subscribers WHERE confirm_sent_at IS NOT NULL;

-- Who made the latest unsubscribe: only a reader's own can be undone, and only that one.
ALTER TABLE subscribers ADD COLUMN unsubscribed_by TEXT CHECK (unsubscribed_by IN ('reader', 'operator'));
UPDATE subscribers SET unsubscribed_by = CASE WHEN suppressed_by = 'operator' THEN 'operator' ELSE 'reader' END
  WHERE status = 'unsubscribed';

-- The message a bounce is about ("digest:12", "confirm:S.T"): soft bounces count once per
-- message sent, however many copies of the report arrive.
ALTER TABLE bounce_events ADD COLUMN about TEXT;
UPDATE bounce_events SET about = 'digest:' || digest_id WHERE digest_id IS NOT NULL;

-- Senders announce themselves while they send, with the digest they work on: a row
-- left `sending` by an owner whose heartbeat went stale belongs to a process that is
-- gone, whatever its pid.
CREATE TABLE senders (
  owner        TEXT    PRIMARY KEY,
  digest_id    INTEGER,
  heartbeat_at TEXT    NOT NULL
) STRICT;

-- The ledger's maintenance queries find their rows without scanning the ledger:
-- --retry-unknown, and forgetting a subscriber. (Rows in flight are found within
-- their digest through the primary key: an index on them would cost every message
-- an extra page write.)
CREATE INDEX deliveries_unknown ON deliveries (digest_id) WHERE status = 'unknown';
CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id);

-- Senders announce themselves while they send: a row left `sending` by an owner
-- whose heartbeat went stale belongs to a process that is gone, whatever its pid.
CREATE TABLE senders (
  owner        TEXT PRIMARY KEY,
  heartbeat_at TEXT NOT NULL
) STRICT;

-- The ledger's maintenance queries find their rows without scanning the ledger:
-- recovery (rows in flight), --retry-unknown, and forgetting a subscriber.
CREATE INDEX deliveries_in_flight ON deliveries (claimed_by) WHERE status = 'sending';
CREATE INDEX deliveries_unknown ON deliveries (digest_id) WHERE status = 'unknown';
CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id);

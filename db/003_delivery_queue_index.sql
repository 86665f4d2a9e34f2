-- Only queued rows need finding fast; sent and failed rows leave this index and never
-- come back, so settling a delivery no longer rewrites an index page.
DROP INDEX deliveries_by_status;
CREATE INDEX deliveries_queue ON deliveries (digest_id, next_attempt_at) WHERE status = 'queued';

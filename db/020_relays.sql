-- Several relays (PAPERMAIL_SMTP_URL lists them in order of preference). The daily quota's
-- counts per minute are kept per counter: '' for every relay together
-- (PAPERMAIL_SMTP_DAILY_LIMIT), a relay's name for its own limit. Each relay's state says
-- whether the sender fails over past it, until when, and why.
CREATE TABLE send_buckets_new (
  counter TEXT    NOT NULL,
  minute  INTEGER NOT NULL,
  sent    INTEGER NOT NULL,
  PRIMARY KEY (counter, minute)
) STRICT;
INSERT INTO send_buckets_new (counter, minute, sent) SELECT '', minute, sent FROM send_buckets;
DROP TABLE send_buckets;
ALTER TABLE send_buckets_new RENAME TO send_buckets;

CREATE TABLE relay_state (
  relay         TEXT    PRIMARY KEY,
  state         TEXT    NOT NULL CHECK (state IN ('up', 'down', 'over-quota')),
  until         TEXT,
  last_error    TEXT,
  last_error_at TEXT,
  changed_at    TEXT    NOT NULL
) STRICT;

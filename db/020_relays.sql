-- Several relays (PAPERMAIL_SMTP_URL lists them in order of preference). Each relay's own
-- daily quota counts sends per minute, as send_buckets does for the limit in all; its
-- state says whether the sender fails over past it, until when, and why.
CREATE TABLE relay_buckets (
  relay  TEXT    NOT NULL,
  minute INTEGER NOT NULL,
  sent   INTEGER NOT NULL,
  PRIMARY KEY (relay, minute)
) STRICT;

CREATE TABLE relay_state (
  relay         TEXT    PRIMARY KEY,
  state         TEXT    NOT NULL CHECK (state IN ('up', 'down', 'over-quota')),
  until         TEXT,
  last_error    TEXT,
  last_error_at TEXT,
  changed_at    TEXT    NOT NULL
) STRICT;

-- Alerts about the input and the sends: raised when a check finds a problem, cleared
-- when it no longer does. One row per kind of problem; mailed_on keeps the mail to
-- PAPERMAIL_ADMIN_EMAIL to once per alert and day.
CREATE TABLE alerts (
  kind       TEXT PRIMARY KEY,
  message    TEXT NOT NULL,
  raised_at  TEXT NOT NULL,
  seen_at    TEXT NOT NULL,
  cleared_at TEXT,
  mailed_on  TEXT
) STRICT;

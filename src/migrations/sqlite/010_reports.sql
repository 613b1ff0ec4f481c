-- Daily reports (issue 10): per-org delivery settings, the delivery ledger, and the report as sent.

CREATE TABLE report_settings (
  org_id      TEXT    NOT NULL PRIMARY KEY,
  -- JSON array of e-mail addresses
  recipients  TEXT    NOT NULL DEFAULT '[]',
  webhook_url TEXT,
  updated_at  INTEGER NOT NULL
) STRICT;

-- One row per (org, local date, channel): claimed with a conditional update, so each is
-- delivered once across restarts and workers; a failure keeps the row for a retry.
CREATE TABLE report_deliveries (
  org_id          TEXT    NOT NULL,
  report_date     TEXT    NOT NULL,
  channel         TEXT    NOT NULL CHECK (channel IN ('email', 'webhook')),
  status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_holder    TEXT,
  lease_until     INTEGER,
  last_error      TEXT,
  delivered_at    INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (org_id, report_date, channel)
) STRICT;

CREATE INDEX report_deliveries_due ON report_deliveries (status, next_attempt_at);

CREATE TABLE report_snapshots (
  org_id       TEXT    NOT NULL,
  report_date  TEXT    NOT NULL,
  generated_at INTEGER NOT NULL,
  json         TEXT    NOT NULL,
  html         TEXT    NOT NULL,
  PRIMARY KEY (org_id, report_date)
) STRICT;

-- Daily reports (issue 10): per-org delivery settings, the delivery ledger, and the report as sent.

CREATE TABLE report_settings (
  org_id      text COLLATE "C" NOT NULL PRIMARY KEY,
  recipients  jsonb  NOT NULL DEFAULT '[]'::jsonb,
  webhook_url text,
  updated_at  bigint NOT NULL
);

-- One row per (org, local date, channel): claimed with a conditional update, so each is
-- delivered once across restarts and workers; a failure keeps the row for a retry.
CREATE TABLE report_deliveries (
  org_id          text COLLATE "C" NOT NULL,
  report_date     text COLLATE "C" NOT NULL,
  channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
  status          text NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  lease_holder    text,
  lease_until     bigint,
  last_error      text,
  delivered_at    bigint,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  PRIMARY KEY (org_id, report_date, channel)
);

CREATE INDEX report_deliveries_due ON report_deliveries (status, next_attempt_at);

CREATE TABLE report_snapshots (
  org_id       text COLLATE "C" NOT NULL,
  report_date  text COLLATE "C" NOT NULL,
  generated_at bigint NOT NULL,
  json         text NOT NULL,
  html         text NOT NULL,
  PRIMARY KEY (org_id, report_date)
);

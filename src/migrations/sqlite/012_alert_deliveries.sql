-- Alert notifications (issue 10): a delivery ledger per (alert event, channel) like the report
-- ledger (010), the notice as first rendered (so a retry sends the same words even after the
-- rule changed or was deleted), and config-managed rules.

-- One row per (event, channel): claimed with a conditional update under a lease, so each is sent
-- once across restarts and workers; a failure keeps the row with its next attempt (backoff).
CREATE TABLE alert_deliveries (
  event_id        INTEGER NOT NULL,
  org_id          TEXT    NOT NULL,
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
  PRIMARY KEY (event_id, channel)
) STRICT;

CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);

-- JSON {subject, text, webhook}: what every attempt sends.
ALTER TABLE alert_events ADD COLUMN notice TEXT;

-- The rule's name when the config file manages it (NULL: made through the API). Unique per
-- organization, so concurrent start-ups upsert the same row.
ALTER TABLE alert_rules ADD COLUMN config_key TEXT;
CREATE UNIQUE INDEX alert_rules_config_key ON alert_rules (org_id, config_key);

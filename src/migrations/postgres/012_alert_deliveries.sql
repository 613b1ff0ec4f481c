-- Alert notifications (issue 10): a delivery ledger per (alert event, channel) like the report
-- ledger (010), the notice as first rendered (so a retry sends the same words even after the
-- rule changed or was deleted), and config-managed rules.

-- One row per (event, channel): claimed with a conditional update under a lease, so each is sent
-- once across restarts and workers; a failure keeps the row with its next attempt (backoff).
CREATE TABLE alert_deliveries (
  event_id        bigint NOT NULL,
  org_id          text COLLATE "C" NOT NULL,
  channel         text   NOT NULL CHECK (channel IN ('email', 'webhook')),
  status          text   NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  lease_holder    text,
  lease_until     bigint,
  last_error      text,
  delivered_at    bigint,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  PRIMARY KEY (event_id, channel)
);

CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);

-- {subject, text, webhook}: what every attempt sends.
ALTER TABLE alert_events ADD COLUMN notice jsonb;

-- The rule's name when the config file manages it (NULL: made through the API). Unique per
-- organization, so concurrent start-ups upsert the same row.
ALTER TABLE alert_rules ADD COLUMN config_key text COLLATE "C";
CREATE UNIQUE INDEX alert_rules_config_key ON alert_rules (org_id, config_key);

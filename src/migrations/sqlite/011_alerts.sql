-- Alert rules (issue 10 step 5): rules per organization with their current state, and the
-- history of transitions with the delivery outcome of each notification.

CREATE TABLE alert_rules (
  id         TEXT    NOT NULL PRIMARY KEY,
  org_id     TEXT    NOT NULL,
  -- JSON of the validated rule definition (name, metric, dimension, condition, …)
  definition TEXT    NOT NULL,
  -- Only a conditional UPDATE moves a rule between states, so one evaluator wins a transition.
  state      TEXT    NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'breaching')),
  state_since INTEGER NOT NULL,
  last_value REAL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX alert_rules_org ON alert_rules (org_id);

CREATE TABLE alert_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id      TEXT    NOT NULL,
  rule_id     TEXT    NOT NULL,
  rule_name   TEXT    NOT NULL,
  kind        TEXT    NOT NULL CHECK (kind IN ('breach', 'recovery')),
  value       REAL,
  threshold   REAL    NOT NULL,
  at          INTEGER NOT NULL,
  -- JSON object channel → 'delivered' | error message
  deliveries  TEXT    NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX alert_events_org ON alert_events (org_id, id);

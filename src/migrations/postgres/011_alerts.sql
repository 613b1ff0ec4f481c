-- Alert rules (issue 10 step 5): rules per organization with their current state, and the
-- history of transitions with the delivery outcome of each notification.

CREATE TABLE alert_rules (
  id          text COLLATE "C" NOT NULL PRIMARY KEY,
  org_id      text COLLATE "C" NOT NULL,
  definition  jsonb  NOT NULL,
  -- Only a conditional UPDATE moves a rule between states, so one evaluator wins a transition.
  state       text   NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'breaching')),
  state_since bigint NOT NULL,
  last_value  double precision,
  created_at  bigint NOT NULL
);

CREATE INDEX alert_rules_org ON alert_rules (org_id);

CREATE TABLE alert_events (
  id         bigserial PRIMARY KEY,
  org_id     text COLLATE "C" NOT NULL,
  rule_id    text COLLATE "C" NOT NULL,
  rule_name  text   NOT NULL,
  kind       text   NOT NULL CHECK (kind IN ('breach', 'recovery')),
  value      double precision,
  threshold  double precision NOT NULL,
  at         bigint NOT NULL,
  deliveries jsonb  NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX alert_events_org ON alert_events (org_id, id);

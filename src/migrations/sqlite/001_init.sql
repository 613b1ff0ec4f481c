-- meterboard embedded schema. Instants are epoch milliseconds (UTC) in INTEGER columns.

CREATE TABLE orgs (
  id           TEXT    NOT NULL PRIMARY KEY,
  name         TEXT    NOT NULL,
  timezone     TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  -- bumped whenever the org's rollups are rewritten; part of every cache key
  data_version INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE api_keys (
  id           TEXT    NOT NULL PRIMARY KEY,
  org_id       TEXT    NOT NULL,
  scope        TEXT    NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
  name         TEXT    NOT NULL,
  key_hash     TEXT    NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
) STRICT;
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);

CREATE TABLE events (
  org_id        TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  type          TEXT    NOT NULL,
  ts            INTEGER NOT NULL,
  project       TEXT    NOT NULL,
  tag           TEXT    NOT NULL,
  attrs         TEXT    NOT NULL, -- JSON object of flat attributes
  received_at   INTEGER NOT NULL,
  supersede_key TEXT,
  superseded    INTEGER NOT NULL DEFAULT 0 CHECK (superseded IN (0, 1)),
  PRIMARY KEY (org_id, id)
) STRICT;
CREATE INDEX events_org_ts ON events (org_id, ts);
-- Only a few event types carry a supersede key; a partial index keeps ingest cheap for the rest.
-- It carries the winner order (ts, received_at, id) so the planner never prefers events_org_ts
-- (which would walk every event of the org) to avoid a sort.
CREATE INDEX events_org_supersede ON events (org_id, supersede_key, ts, received_at, id)
  WHERE supersede_key IS NOT NULL;

CREATE TABLE dirty_hours (
  org_id     TEXT    NOT NULL,
  hour_start INTEGER NOT NULL,
  -- value of the global dirty_generation sequence at the last mark (never reused, so a stale
  -- claim can never clear a newer mark)
  generation INTEGER NOT NULL,
  PRIMARY KEY (org_id, hour_start)
) STRICT, WITHOUT ROWID;

CREATE TABLE sequences (
  name  TEXT    NOT NULL PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO sequences (name, value) VALUES ('dirty_generation', 0);

CREATE TABLE rollups (
  org_id       TEXT    NOT NULL,
  granularity  TEXT    NOT NULL CHECK (granularity IN ('hour', 'day', 'week', 'month')),
  bucket_start INTEGER NOT NULL,
  metric       TEXT    NOT NULL,
  project      TEXT    NOT NULL,
  tag          TEXT    NOT NULL,
  dim_name     TEXT    NOT NULL,
  dim_value    TEXT    NOT NULL,
  count        INTEGER NOT NULL,
  sum          REAL    NOT NULL,
  min          REAL    NOT NULL,
  max          REAL    NOT NULL,
  sketch       BLOB,
  last_value   REAL,
  last_ts      INTEGER,
  PRIMARY KEY (org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value)
) STRICT, WITHOUT ROWID;
-- A global series of one metric needs a few hundred rows of a bucket range that holds every metric
-- and dimension value; this index lets it skip the rest (readRollups names it). Partial: global
-- rows are a small share of all rows, so bulk rollup writes stay cheap.
CREATE INDEX rollups_global_by_metric ON rollups (org_id, granularity, metric, bucket_start) WHERE dim_name = '';

CREATE TABLE leases (
  name       TEXT    NOT NULL PRIMARY KEY,
  holder     TEXT    NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

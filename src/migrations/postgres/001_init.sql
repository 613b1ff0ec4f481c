-- Initial schema for the PostgreSQL (server mode) engine.
-- Instants are bigint epoch milliseconds (UTC). Identifiers and keys use the "C" collation so
-- ordering and equality match SQLite and JavaScript string comparison byte for byte.

CREATE TABLE orgs (
  id           text COLLATE "C" PRIMARY KEY,
  name         text NOT NULL,
  timezone     text NOT NULL,
  created_at   bigint NOT NULL,
  updated_at   bigint NOT NULL,
  data_version bigint NOT NULL DEFAULT 0
);

CREATE TABLE api_keys (
  id           text COLLATE "C" PRIMARY KEY,
  org_id       text COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  scope        text NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
  name         text NOT NULL,
  key_hash     text COLLATE "C" NOT NULL UNIQUE,
  created_at   bigint NOT NULL,
  last_used_at bigint,
  revoked_at   bigint
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at);

-- Raw events, partitioned by day on ts so retention drops whole partitions. Daily partitions
-- (events_YYYYMMDD) are created on demand by the adapter; the DEFAULT partition catches rows
-- whose day has no partition (yet) and hands them over when that partition is created.
-- attrs is json, not jsonb: attributes are filtered in the application, and json keeps the
-- sender's text (key order, number spelling, \u0000 escapes) while being cheaper to insert.
CREATE TABLE events (
  org_id        text COLLATE "C" NOT NULL,
  id            text COLLATE "C" NOT NULL,
  type          text COLLATE "C" NOT NULL,
  ts            bigint NOT NULL,
  received_at   bigint NOT NULL,
  project       text COLLATE "C" NOT NULL,
  tag           text COLLATE "C" NOT NULL,
  attrs         json NOT NULL,
  supersede_key text COLLATE "C",
  superseded    boolean NOT NULL DEFAULT false
) PARTITION BY RANGE (ts);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_org_ts_idx ON events (org_id, ts);

-- A partitioned table's primary key must contain the partition key, so idempotency on
-- (org_id, id) lives in this side table, written in the same transaction as the event.
CREATE TABLE event_ids (
  org_id text COLLATE "C" NOT NULL,
  id     text COLLATE "C" NOT NULL,
  ts     bigint NOT NULL,
  PRIMARY KEY (org_id, id)
);

-- The current winner of every supersede key (latest by ts, then received_at, then id), so an
-- insert decides superseded flags with one primary-key lookup per key instead of re-ranking
-- the key's events across every daily partition.
CREATE TABLE supersede_heads (
  org_id        text COLLATE "C" NOT NULL,
  supersede_key text COLLATE "C" NOT NULL,
  id            text COLLATE "C" NOT NULL,
  ts            bigint NOT NULL,
  received_at   bigint NOT NULL,
  PRIMARY KEY (org_id, supersede_key)
);

-- Generations come from one sequence so a re-created mark never reuses a value a stale
-- claim could still hold.
CREATE SEQUENCE dirty_generation_seq;
CREATE TABLE dirty_hours (
  org_id     text COLLATE "C" NOT NULL,
  hour_start bigint NOT NULL,
  generation bigint NOT NULL,
  PRIMARY KEY (org_id, hour_start)
);

CREATE TABLE rollups (
  org_id       text COLLATE "C" NOT NULL,
  granularity  text COLLATE "C" NOT NULL,
  bucket_start bigint NOT NULL,
  metric       text COLLATE "C" NOT NULL,
  project      text COLLATE "C" NOT NULL,
  tag          text COLLATE "C" NOT NULL,
  dim_name     text COLLATE "C" NOT NULL,
  dim_value    text COLLATE "C" NOT NULL,
  count        bigint NOT NULL,
  sum          double precision NOT NULL,
  min          double precision NOT NULL,
  max          double precision NOT NULL,
  sketch       bytea,
  last_value   double precision,
  last_ts      bigint,
  PRIMARY KEY (org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value)
) WITH (fillfactor = 90); -- room on each page for in-place (HOT) updates when buckets are re-aggregated
-- No second index: retention walks the primary key organization by organization, and every
-- extra index would slow down the bulk writes of aggregation.

CREATE TABLE leases (
  name       text COLLATE "C" PRIMARY KEY,
  holder     text COLLATE "C" NOT NULL,
  expires_at bigint NOT NULL
);

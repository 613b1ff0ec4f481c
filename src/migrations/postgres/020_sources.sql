-- SQL sources (issue 11): where each (source, table) pull stands, what the pulls did, and the
-- last recorded period of each snapshot query.
CREATE TABLE source_cursors (
  source      text COLLATE "C" NOT NULL,
  table_key   text COLLATE "C" NOT NULL,
  change_us   bigint NOT NULL,
  row_key     text COLLATE "C" NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (source, table_key)
);

CREATE TABLE source_status (
  source                text COLLATE "C" PRIMARY KEY,
  last_pull_at          bigint,
  last_success_at       bigint,
  last_error            text,
  last_error_at         bigint,
  consecutive_failures  integer NOT NULL DEFAULT 0,
  rows_read             bigint NOT NULL DEFAULT 0,
  events_accepted       bigint NOT NULL DEFAULT 0,
  events_rejected       bigint NOT NULL DEFAULT 0,
  rows_skipped          bigint NOT NULL DEFAULT 0,
  last_rejection        text,
  newest_change_us      bigint
);

CREATE TABLE source_snapshots (
  source        text COLLATE "C" NOT NULL,
  snapshot      text COLLATE "C" NOT NULL,
  period_start  bigint NOT NULL,
  value         double precision NOT NULL,
  recorded_at   bigint NOT NULL,
  PRIMARY KEY (source, snapshot)
);

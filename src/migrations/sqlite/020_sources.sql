-- SQL sources (issue 11): where each (source, table) pull stands, what the pulls did, and the
-- last recorded period of each snapshot query.
CREATE TABLE source_cursors (
  source      TEXT NOT NULL,
  table_key   TEXT NOT NULL,
  change_us   INTEGER NOT NULL,
  row_key     TEXT NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (source, table_key)
) STRICT;

CREATE TABLE source_status (
  source                TEXT PRIMARY KEY,
  last_pull_at          INTEGER,
  last_success_at       INTEGER,
  last_error            TEXT,
  last_error_at         INTEGER,
  consecutive_failures  INTEGER NOT NULL DEFAULT 0,
  rows_read             INTEGER NOT NULL DEFAULT 0,
  events_accepted       INTEGER NOT NULL DEFAULT 0,
  events_rejected       INTEGER NOT NULL DEFAULT 0,
  rows_skipped          INTEGER NOT NULL DEFAULT 0,
  last_rejection        TEXT,
  newest_change_us      INTEGER
) STRICT;

CREATE TABLE source_snapshots (
  source        TEXT NOT NULL,
  snapshot      TEXT NOT NULL,
  period_start  INTEGER NOT NULL,
  value         REAL NOT NULL,
  recorded_at   INTEGER NOT NULL,
  PRIMARY KEY (source, snapshot)
) STRICT;

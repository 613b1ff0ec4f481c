-- ADR 0006: rollups are stored packed, one row per (org, tier, bucket, metric, dimension name)
-- whose blob holds every (project, tag, dimension value) partial (src/adapters/rollup-packs.ts).
-- `value_count` is the number of partials packed, what retention reports as rows.
CREATE TABLE rollup_packs (
  org_id       TEXT    NOT NULL,
  granularity  TEXT    NOT NULL CHECK (granularity IN ('hour', 'day', 'week', 'month')),
  bucket_start INTEGER NOT NULL,
  metric       TEXT    NOT NULL,
  dim_name     TEXT    NOT NULL,
  value_count  INTEGER NOT NULL,
  packed       BLOB    NOT NULL,
  PRIMARY KEY (org_id, granularity, bucket_start, metric, dim_name)
) STRICT, WITHOUT ROWID;
-- The old one-row-per-value table stays readable: buckets aggregated before this migration are
-- still answered from it (dimension rows split by project and tag merge into the same totals),
-- and every replace deletes a bucket's old rows. `meterboard backfill` (or a time-zone rebuild)
-- rewrites old buckets in the new layout and so reclaims their space.

-- Bucket totals (ADR 0024): per (org, tier, bucket), every metric's global rows merged across
-- projects and tags, as one pack (src/adapters/rollup-totals.ts). A merging read of many
-- metrics reads one row per bucket instead of one per (bucket, metric). Filled for the packs
-- already stored by the same transaction that applies this file (sqlite-storage.ts), and kept
-- exact by every rollup write from then on.
CREATE TABLE rollup_totals (
  org_id       TEXT    NOT NULL,
  granularity  TEXT    NOT NULL CHECK (granularity IN ('hour', 'day', 'week', 'month')),
  bucket_start INTEGER NOT NULL,
  packed       BLOB    NOT NULL,
  PRIMARY KEY (org_id, granularity, bucket_start)
) STRICT, WITHOUT ROWID;

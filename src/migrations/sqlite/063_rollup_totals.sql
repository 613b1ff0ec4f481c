-- Bucket totals (ADR 0024): per (org, tier, bucket), every metric's global rows merged across
-- projects and tags, as one pack (src/adapters/rollup-totals.ts). A merging read of many
-- metrics reads one row per bucket instead of one per (bucket, metric). Filled for the packs
-- already stored by the same transaction that applies this file (sqlite-storage.ts), and kept
-- exact by every rollup write from then on.
-- A rowid table, unlike rollup_packs: a WITHOUT ROWID b-tree keeps at most ~2 KB of a row in
-- its page and moves the rest to an 8 KiB overflow page, and totals rows run to 1–4 KB (hour
-- to month), so most of those pages stood empty (60 % of the pages held payload; a rowid
-- table's leaf keeps rows up to ~8 KB inline). Its unique key is a small index beside it.
CREATE TABLE rollup_totals (
  org_id       TEXT    NOT NULL,
  granularity  TEXT    NOT NULL CHECK (granularity IN ('hour', 'day', 'week', 'month')),
  bucket_start INTEGER NOT NULL,
  packed       BLOB    NOT NULL,
  UNIQUE (org_id, granularity, bucket_start)
) STRICT;

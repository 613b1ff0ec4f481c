-- ADR 0027: rollup_packs becomes a rowid table whose key is a unique index beside it. As a
-- WITHOUT ROWID table (migration 050) the whole row, blob included, was the b-tree's key:
-- interior pages held copies of ~2 KB rows (16 keys a page, seven levels at 10M events) and
-- rows over ~2 KB went to 8 KiB overflow pages left 70 % empty. A point read of one pack cost
-- 6.3 µs at 10M events (1.7 at 1M); with a small key index and rows inline, 2.8 µs, and the
-- table plus its key index take less room than the table alone did.
ALTER TABLE rollup_packs RENAME TO rollup_packs_050;
CREATE TABLE rollup_packs (
  org_id       TEXT    NOT NULL,
  granularity  TEXT    NOT NULL CHECK (granularity IN ('hour', 'day', 'week', 'month')),
  bucket_start INTEGER NOT NULL,
  metric       TEXT    NOT NULL,
  dim_name     TEXT    NOT NULL,
  value_count  INTEGER NOT NULL,
  packed       BLOB    NOT NULL,
  UNIQUE (org_id, granularity, bucket_start, metric, dim_name)
) STRICT;
INSERT INTO rollup_packs (org_id, granularity, bucket_start, metric, dim_name, value_count, packed)
  SELECT org_id, granularity, bucket_start, metric, dim_name, value_count, packed FROM rollup_packs_050
   ORDER BY org_id, granularity, bucket_start, metric, dim_name;
-- Drops rollup_packs_by_metric (migration 062) with it; recreated on the new table below.
DROP TABLE rollup_packs_050;
CREATE INDEX rollup_packs_by_metric ON rollup_packs (org_id, granularity, metric, dim_name, bucket_start) WHERE dim_name <> '';

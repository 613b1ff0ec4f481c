-- `unique` metrics keep a mergeable distinct sketch (src/domain/distinct-sketch.ts) per rollup row;
-- null for every other kind.
ALTER TABLE rollups ADD COLUMN hll BLOB;
-- The global-reads index covers every column a read returns; it must cover the new one too, or
-- each global read goes back to the table.
DROP INDEX rollups_global_by_bucket;
CREATE INDEX rollups_global_by_bucket ON rollups
  (org_id, granularity, bucket_start, metric, project, tag, dim_value, count, sum, min, max, sketch, last_value, last_ts, hll)
  WHERE dim_name = '';

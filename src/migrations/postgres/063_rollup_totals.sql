-- Bucket totals (ADR 0024): per (org, tier, bucket), every metric's global rows merged across
-- projects and tags, as one pack (src/adapters/rollup-totals.ts). A merging read of many
-- metrics reads one row per bucket instead of one per (bucket, metric). Filled for the packs
-- already stored inside the migration's transaction (migrations.ts), and kept exact by every
-- rollup write from then on. Stored like rollup_packs' blobs (migration 051): already compact.
CREATE TABLE rollup_totals (
  org_id       text COLLATE "C" NOT NULL,
  granularity  text COLLATE "C" NOT NULL,
  bucket_start bigint NOT NULL,
  packed       bytea NOT NULL,
  PRIMARY KEY (org_id, granularity, bucket_start)
);
ALTER TABLE rollup_totals ALTER COLUMN packed SET STORAGE EXTERNAL;

-- `unique` metrics keep a mergeable distinct sketch (src/domain/distinct-sketch.ts) per rollup row;
-- null for every other kind. Adding a nullable column without a default rewrites no rows.
ALTER TABLE rollups ADD COLUMN hll bytea;

-- Summary and series without a dimension read only global rows (dim_name = ''), ~7 % of the day
-- rows and ~15 % of the hour rows; through the primary key they walk every dimension value of
-- each bucket in range. Partial, so bulk rollup writes pay only for the global share; `metric`
-- narrows reads of named metrics inside the index.
CREATE INDEX rollups_global_by_bucket_idx ON rollups (org_id, granularity, bucket_start, metric) WHERE dim_name = '';

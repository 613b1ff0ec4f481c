-- Summary and series without a dimension read only global rows (dim_name = ''), ~7 % of the day
-- rows and ~15 % of the hour rows; through the primary key they scan every dimension value of
-- each bucket in range. Covering, so the planner prefers it to the primary key without
-- statistics and never returns to the table; partial, so bulk rollup writes pay only for the
-- global share.
CREATE INDEX rollups_global_by_bucket ON rollups
  (org_id, granularity, bucket_start, metric, project, tag, dim_value, count, sum, min, max, sketch, last_value, last_ts)
  WHERE dim_name = '';

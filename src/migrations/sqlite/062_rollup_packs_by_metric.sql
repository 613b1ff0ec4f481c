-- Narrow reads of dimension packs (a breakdown: one metric of one dimension) seek each
-- metric's buckets here instead of stepping through every pack of the range in primary-key
-- order, blobs included: a 30-day breakdown's day read 0.67 → 0.18 ms (1M events, 2 orgs).
-- Dimension packs only: global reads name many metrics or none, and the primary key serves
-- them. The read that wants it names it (INDEXED BY): the planner cannot size a json_each list.
CREATE INDEX rollup_packs_by_metric ON rollup_packs (org_id, granularity, metric, dim_name, bucket_start) WHERE dim_name <> '';

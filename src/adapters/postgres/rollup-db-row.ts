import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import type { RollupQuery } from '../../ports/storage.ts';

/** A row of the pre-packing `rollups` table (migration 050), still read until its bucket is rewritten. */
export interface RollupDbRow {
  org_id: string;
  granularity: Granularity;
  bucket_start: number;
  metric: string;
  project: string;
  tag: string;
  dim_name: string;
  dim_value: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  sketch: Buffer | null;
  last_value: number | null;
  last_ts: number | null;
  hll: Buffer | null;
}

export const ROLLUP_COLUMNS =
  'org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value, count, sum, min, max, sketch, last_value, last_ts, hll';

export function toRollupRow(row: RollupDbRow): RollupRow {
  return {
    orgId: row.org_id,
    granularity: row.granularity,
    bucketStart: row.bucket_start,
    metric: row.metric,
    project: row.project,
    tag: row.tag,
    dimName: row.dim_name,
    dimValue: row.dim_value,
    count: row.count,
    sum: row.sum,
    min: row.min,
    max: row.max,
    // A plain copy: callers get a Uint8Array they own, not a view into a driver buffer.
    sketch: row.sketch === null ? null : new Uint8Array(row.sketch),
    lastValue: row.last_value,
    lastTs: row.last_ts,
    hll: row.hll === null ? null : new Uint8Array(row.hll),
  };
}

/**
 * The range of a rollup read as $1–$4 and its filters as `column = $n` terms after them; packs
 * are filtered by project and tag while decoding, so only rows of the old layout take them.
 */
export function rollupFilters(query: RollupQuery, projectAndTag: boolean): { values: unknown[]; filters: string[] } {
  const values: unknown[] = [query.orgId, query.granularity, query.from, query.to];
  const filters: string[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    filters.push(sql(`$${values.length}`));
  };
  // One metric as a plain equality: PostgreSQL then seeks it inside the primary key, where
  // `= ANY(array)` after the bucket range is only a filter over every metric's packs.
  if (query.metrics !== undefined && query.metrics.length === 1) add((p) => `metric = ${p}`, query.metrics[0]);
  else if (query.metrics !== undefined) add((p) => `metric = ANY(${p}::text[])`, query.metrics);
  if (projectAndTag && query.project !== undefined) add((p) => `project = ${p}`, query.project);
  if (projectAndTag && query.tag !== undefined) add((p) => `tag = ${p}`, query.tag);
  if (query.dimName !== undefined) add((p) => `dim_name = ${p}`, query.dimName);
  return { values, filters };
}

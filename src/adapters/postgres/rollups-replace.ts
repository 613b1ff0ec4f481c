import type { PoolClient } from 'pg';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import { byteaArray, numberArray, textArray } from './array-literals.ts';

/** Rows per staging INSERT: large enough to amortise round trips, small enough to bound message size. */
const ROWS_PER_STATEMENT = 25_000;
/** Rows staged and merged at a time (whole buckets): keeps the temp table in memory (temp_buffers). */
const ROWS_PER_MERGE = 30_000;
/** Above this many staged rows, the vanished-rows delete first gathers statistics on the stage. */
const ANALYZE_STAGE_FROM_ROWS = 5_000;

const KEY_MATCH = `s.bucket_start = r.bucket_start AND s.metric = r.metric AND s.project = r.project
  AND s.tag = r.tag AND s.dim_name = r.dim_name AND s.dim_value = r.dim_value`;
const ROW_COLUMNS =
  'bucket_start, metric, project, tag, dim_name, dim_value, count, sum, min, max, sketch, last_value, last_ts, hll';
// The range ($4..$5) is what the primary-key scan uses; the list then picks the exact buckets.
const IN_BUCKETS = `r.org_id = $1 AND r.granularity = $2 AND r.bucket_start BETWEEN $4 AND $5
  AND r.bucket_start = ANY($3::bigint[])`;

/** Parameters $1..$5 of IN_BUCKETS. */
function bucketScope(orgId: string, granularity: Granularity, bucketStarts: readonly number[]): unknown[] {
  let min = Infinity;
  let max = -Infinity;
  for (const start of bucketStarts) {
    if (start < min) min = start;
    if (start > max) max = start;
  }
  return [orgId, granularity, numberArray(bucketStarts), min, max];
}

/**
 * Replaces every row of `bucketStarts` with `rows`, inside the caller's transaction. Buckets
 * that hold no rows yet (first aggregation, backfill) take a straight bulk insert. Otherwise
 * the new rows are staged in a session temp table and merged: rows that vanished are deleted,
 * rows whose partials changed are updated (in place where PostgreSQL can, as only unindexed
 * columns change), new rows are inserted, and identical rows are not written at all, so
 * re-aggregating unchanged buckets costs reads only. Duplicate row keys fail either way.
 */
export async function replaceBucketRows(
  client: PoolClient,
  orgId: string,
  granularity: Granularity,
  bucketStarts: readonly number[],
  rows: readonly RollupRow[],
): Promise<void> {
  const existing = await client.query(
    `SELECT 1 FROM rollups AS r WHERE ${IN_BUCKETS} LIMIT 1`,
    bucketScope(orgId, granularity, bucketStarts),
  );
  if (existing.rows.length === 0) {
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      await insertRows(client, 'rollups', [orgId, granularity], rows.slice(start, start + ROWS_PER_STATEMENT));
    }
    return;
  }
  for (const group of groupByBuckets(bucketStarts, rows)) {
    await mergeRows(client, bucketScope(orgId, granularity, group.bucketStarts), group.rows);
  }
}

/**
 * Whole buckets packed into groups of about ROWS_PER_MERGE rows, so the staging table stays
 * within the session's temp buffers instead of spilling to disk.
 */
function groupByBuckets(
  bucketStarts: readonly number[],
  rows: readonly RollupRow[],
): Array<{ bucketStarts: number[]; rows: RollupRow[] }> {
  // Sorted, so each group spans a narrow range of the primary key.
  const sorted = [...bucketStarts].sort((a, b) => a - b);
  const rowsByBucket = new Map<number, RollupRow[]>(sorted.map((start) => [start, []]));
  for (const row of rows) rowsByBucket.get(row.bucketStart)?.push(row);
  const groups: Array<{ bucketStarts: number[]; rows: RollupRow[] }> = [];
  let current = { bucketStarts: [] as number[], rows: [] as RollupRow[] };
  for (const [start, bucketRows] of rowsByBucket) {
    if (current.bucketStarts.length > 0 && current.rows.length + bucketRows.length > ROWS_PER_MERGE) {
      groups.push(current);
      current = { bucketStarts: [], rows: [] };
    }
    current.bucketStarts.push(start);
    for (const row of bucketRows) current.rows.push(row);
  }
  if (current.bucketStarts.length > 0) groups.push(current);
  return groups;
}

async function mergeRows(client: PoolClient, scope: unknown[], rows: readonly RollupRow[]): Promise<void> {
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS rollup_stage (
       bucket_start bigint NOT NULL,
       metric text COLLATE "C" NOT NULL, project text COLLATE "C" NOT NULL, tag text COLLATE "C" NOT NULL,
       dim_name text COLLATE "C" NOT NULL, dim_value text COLLATE "C" NOT NULL,
       count bigint NOT NULL, sum float8 NOT NULL, min float8 NOT NULL, max float8 NOT NULL,
       sketch bytea, last_value float8, last_ts bigint, hll bytea,
       PRIMARY KEY (bucket_start, metric, project, tag, dim_name, dim_value)
     ) ON COMMIT DELETE ROWS`,
  );
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    await insertRows(client, 'rollup_stage', [], rows.slice(start, start + ROWS_PER_STATEMENT));
  }

  await client.query(
    `MERGE INTO rollups AS r
     USING rollup_stage AS s
        ON ${IN_BUCKETS} AND ${KEY_MATCH}
      WHEN MATCHED AND (r.count, r.sum, r.min, r.max, r.sketch, r.last_value, r.last_ts, r.hll)
                       IS DISTINCT FROM (s.count, s.sum, s.min, s.max, s.sketch, s.last_value, s.last_ts, s.hll) THEN
        UPDATE SET count = s.count, sum = s.sum, min = s.min, max = s.max,
                   sketch = s.sketch, last_value = s.last_value, last_ts = s.last_ts, hll = s.hll
      WHEN NOT MATCHED THEN
        INSERT (org_id, granularity, ${ROW_COLUMNS})
        VALUES ($1, $2, s.bucket_start, s.metric, s.project, s.tag, s.dim_name, s.dim_value,
                s.count, s.sum, s.min, s.max, s.sketch, s.last_value, s.last_ts, s.hll)`,
    scope,
  );
  // PostgreSQL 15's MERGE has no WHEN NOT MATCHED BY SOURCE. Every staged row is now in the
  // buckets, so any surplus are rows that vanished; a cheap count spares the anti-join when
  // there are none, which is the common case.
  const present = await client.query<{ n: number }>(
    `SELECT count(*)::bigint AS n FROM rollups AS r WHERE ${IN_BUCKETS}`,
    scope,
  );
  if ((present.rows[0]?.n ?? 0) > rows.length) {
    // Statistics keep the planner from treating the staged rows as a handful (nested loops
    // over a large stage are quadratic).
    if (rows.length >= ANALYZE_STAGE_FROM_ROWS) await client.query('ANALYZE rollup_stage');
    await client.query(
      `DELETE FROM rollups AS r WHERE ${IN_BUCKETS}
          AND NOT EXISTS (SELECT 1 FROM rollup_stage AS s WHERE ${KEY_MATCH})`,
      scope,
    );
  }
  await client.query('TRUNCATE rollup_stage');
}

/**
 * Column-wise arrays: a whole chunk travels as 14 array parameters, expanded by unnest.
 * `leading` are constant values for the target's first columns (org_id, granularity).
 */
async function insertRows(
  client: PoolClient,
  target: 'rollups' | 'rollup_stage',
  leading: readonly string[],
  rows: readonly RollupRow[],
): Promise<void> {
  const constants = leading.map((_, i) => `$${i + 1}::text, `).join('');
  const p = (n: number) => `$${leading.length + n}`;
  const columns = `${target === 'rollups' ? 'org_id, granularity, ' : ''}${ROW_COLUMNS}`;
  await client.query(
    `INSERT INTO ${target} (${columns})
     SELECT ${constants}u.* FROM unnest(
       ${p(1)}::bigint[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::text[],
       ${p(7)}::bigint[], ${p(8)}::float8[], ${p(9)}::float8[], ${p(10)}::float8[], ${p(11)}::bytea[],
       ${p(12)}::float8[], ${p(13)}::bigint[], ${p(14)}::bytea[]) AS u`,
    [
      ...leading,
      numberArray(rows.map((r) => r.bucketStart)),
      textArray(rows.map((r) => r.metric)),
      textArray(rows.map((r) => r.project)),
      textArray(rows.map((r) => r.tag)),
      textArray(rows.map((r) => r.dimName)),
      textArray(rows.map((r) => r.dimValue)),
      numberArray(rows.map((r) => r.count)),
      numberArray(rows.map((r) => r.sum)),
      numberArray(rows.map((r) => r.min)),
      numberArray(rows.map((r) => r.max)),
      byteaArray(rows.map((r) => r.sketch)),
      numberArray(rows.map((r) => r.lastValue)),
      numberArray(rows.map((r) => r.lastTs)),
      byteaArray(rows.map((r) => r.hll)),
    ],
  );
}

import type { PoolClient } from 'pg';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import { byteaArray, numberArray, textArray } from './array-literals.ts';

/** Rows per staging INSERT: large enough to amortise round trips, small enough to bound message size. */
const ROWS_PER_STATEMENT = 25_000;
/** Above this many staged rows, fresh statistics let the planner pick hash joins over index probes. */
const ANALYZE_STAGE_FROM_ROWS = 5_000;

const KEY_MATCH = `s.bucket_start = r.bucket_start AND s.metric = r.metric AND s.project = r.project
  AND s.tag = r.tag AND s.dim_name = r.dim_name AND s.dim_value = r.dim_value`;
const IN_BUCKETS = 'r.org_id = $1 AND r.granularity = $2 AND r.bucket_start = ANY($3::bigint[])';

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
  const scope = [orgId, granularity, numberArray(bucketStarts)];
  const existing = await client.query(`SELECT 1 FROM rollups AS r WHERE ${IN_BUCKETS} LIMIT 1`, scope);
  if (existing.rows.length === 0) {
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      await insertRows(client, 'rollups', [orgId, granularity], rows.slice(start, start + ROWS_PER_STATEMENT));
    }
    return;
  }
  await mergeRows(client, scope, rows);
}

async function mergeRows(client: PoolClient, scope: unknown[], rows: readonly RollupRow[]): Promise<void> {
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS rollup_stage (
       bucket_start bigint NOT NULL,
       metric text COLLATE "C" NOT NULL, project text COLLATE "C" NOT NULL, tag text COLLATE "C" NOT NULL,
       dim_name text COLLATE "C" NOT NULL, dim_value text COLLATE "C" NOT NULL,
       count bigint NOT NULL, sum float8 NOT NULL, min float8 NOT NULL, max float8 NOT NULL,
       sketch bytea, last_value float8, last_ts bigint,
       PRIMARY KEY (bucket_start, metric, project, tag, dim_name, dim_value)
     ) ON COMMIT DELETE ROWS`,
  );
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    await insertRows(client, 'rollup_stage', [], rows.slice(start, start + ROWS_PER_STATEMENT));
  }
  if (rows.length >= ANALYZE_STAGE_FROM_ROWS) await client.query('ANALYZE rollup_stage');

  await client.query(
    `DELETE FROM rollups AS r WHERE ${IN_BUCKETS}
        AND NOT EXISTS (SELECT 1 FROM rollup_stage AS s WHERE ${KEY_MATCH})`,
    scope,
  );
  await client.query(
    `UPDATE rollups AS r
        SET count = s.count, sum = s.sum, min = s.min, max = s.max,
            sketch = s.sketch, last_value = s.last_value, last_ts = s.last_ts
       FROM rollup_stage AS s
      WHERE ${IN_BUCKETS} AND ${KEY_MATCH}
        AND (r.count, r.sum, r.min, r.max, r.sketch, r.last_value, r.last_ts)
            IS DISTINCT FROM (s.count, s.sum, s.min, s.max, s.sketch, s.last_value, s.last_ts)`,
    scope,
  );
  await client.query(
    `INSERT INTO rollups (org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value,
                          count, sum, min, max, sketch, last_value, last_ts)
     SELECT $1, $2, s.bucket_start, s.metric, s.project, s.tag, s.dim_name, s.dim_value,
            s.count, s.sum, s.min, s.max, s.sketch, s.last_value, s.last_ts
       FROM rollup_stage AS s
      WHERE NOT EXISTS (SELECT 1 FROM rollups AS r WHERE ${IN_BUCKETS} AND ${KEY_MATCH})`,
    scope,
  );
}

/**
 * Column-wise arrays: a whole chunk travels as 13 array parameters, expanded by unnest.
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
  await client.query(
    `INSERT INTO ${target}
     SELECT ${constants}u.* FROM unnest(
       ${p(1)}::bigint[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::text[],
       ${p(7)}::bigint[], ${p(8)}::float8[], ${p(9)}::float8[], ${p(10)}::float8[], ${p(11)}::bytea[],
       ${p(12)}::float8[], ${p(13)}::bigint[]) AS u`,
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
    ],
  );
}

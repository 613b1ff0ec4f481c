import type { PoolClient } from 'pg';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import { byteaArray, numberArray, textArray } from './array-literals.ts';

/** Rows per INSERT/MERGE statement: large enough to amortise round trips, small enough to bound message size. */
const ROWS_PER_STATEMENT = 25_000;
/** Rows merged per group of whole buckets: bounds the key set of the vanished-rows check. */
const ROWS_PER_MERGE = 50_000;

const KEY_MATCH = `s.bucket_start = r.bucket_start AND s.metric = r.metric AND s.project = r.project
  AND s.tag = r.tag AND s.dim_name = r.dim_name AND s.dim_value = r.dim_value`;
const ROW_COLUMNS =
  'bucket_start, metric, project, tag, dim_name, dim_value, count, sum, min, max, sketch, last_value, last_ts';
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
 * the rows are merged: rows whose partials changed are updated (in place where PostgreSQL can,
 * as only unindexed columns change), new rows are inserted, rows that vanished are deleted,
 * and identical rows are not written at all, so re-aggregating unchanged buckets costs reads
 * only. Duplicate row keys fail either way (primary key, or the check before merging).
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
      await client.query(
        `INSERT INTO rollups (org_id, granularity, ${ROW_COLUMNS}) SELECT $1, $2, s.* FROM ${unnestRows(2)}`,
        [orgId, granularity, ...rowArrays(rows.slice(start, start + ROWS_PER_STATEMENT))],
      );
    }
    return;
  }
  for (const group of groupByBuckets(bucketStarts, rows)) {
    await mergeRows(client, bucketScope(orgId, granularity, group.bucketStarts), group.rows);
  }
}

/** Whole buckets packed into groups of about ROWS_PER_MERGE rows. */
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
  assertUniqueKeys(rows);
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
    await client.query(
      `MERGE INTO rollups AS r
       USING (SELECT * FROM ${unnestRows(scope.length)}) AS s
          ON ${IN_BUCKETS} AND ${KEY_MATCH}
        WHEN MATCHED AND (r.count, r.sum, r.min, r.max, r.sketch, r.last_value, r.last_ts)
                         IS DISTINCT FROM (s.count, s.sum, s.min, s.max, s.sketch, s.last_value, s.last_ts) THEN
          UPDATE SET count = s.count, sum = s.sum, min = s.min, max = s.max,
                     sketch = s.sketch, last_value = s.last_value, last_ts = s.last_ts
        WHEN NOT MATCHED THEN
          INSERT (org_id, granularity, ${ROW_COLUMNS})
          VALUES ($1, $2, s.bucket_start, s.metric, s.project, s.tag, s.dim_name, s.dim_value,
                  s.count, s.sum, s.min, s.max, s.sketch, s.last_value, s.last_ts)`,
      [...scope, ...rowArrays(chunk)],
    );
  }
  // PostgreSQL 15's MERGE has no WHEN NOT MATCHED BY SOURCE. Every given row is now in the
  // buckets, so any surplus are rows that vanished; a cheap count spares the anti-join when
  // there are none, which is the common case.
  const present = await client.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM rollups AS r WHERE ${IN_BUCKETS}`, scope);
  if ((present.rows[0]?.n ?? 0) > rows.length) {
    await client.query(
      `DELETE FROM rollups AS r WHERE ${IN_BUCKETS}
          AND NOT EXISTS (SELECT 1 FROM ${unnestRows(scope.length)} WHERE ${KEY_MATCH})`,
      [...scope, ...rowArrays(rows)],
    );
  }
}

/** `unnest(...) AS s(columns)` over the 13 column arrays, whose parameters follow `offset` others. */
function unnestRows(offset: number): string {
  const p = (n: number) => `$${offset + n}`;
  return `unnest(
    ${p(1)}::bigint[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::text[],
    ${p(7)}::bigint[], ${p(8)}::float8[], ${p(9)}::float8[], ${p(10)}::float8[], ${p(11)}::bytea[],
    ${p(12)}::float8[], ${p(13)}::bigint[]) AS s(${ROW_COLUMNS})`;
}

/** Column-wise arrays: a whole chunk travels as 13 array parameters (key columns first). */
function rowArrays(rows: readonly RollupRow[]): string[] {
  return [
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
  ];
}

/** The merge would quietly apply one of two rows sharing a key; an error is what callers need. */
function assertUniqueKeys(rows: readonly RollupRow[]): void {
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.bucketStart}\u0000${r.metric}\u0000${r.project}\u0000${r.tag}\u0000${r.dimName}\u0000${r.dimValue}`;
    if (seen.has(key)) throw new Error(`replaceBuckets: duplicate rollup row ${key.replaceAll('\u0000', '/')}`);
    seen.add(key);
  }
}

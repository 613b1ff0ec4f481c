import type { Pool, PoolClient } from 'pg';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import type { RollupQuery } from '../../ports/storage.ts';
import { binaryByteaArray, numberArray, textArray } from './array-literals.ts';
import { rewriteTotals, totalsIdsOf, TotalsBackfill, unpackTotals, type BucketTotals, type TotalChange } from '../rollup-totals.ts';

/**
 * The `rollup_totals` table (ADR 0024, migration 063) on PostgreSQL: one row per (org, tier,
 * bucket) with every metric's scopes merged. Written by the statements and transactions that
 * write the packs it summarises.
 */

/**
 * Merging reads of many metrics from bucket totals, several in one round trip (ADR 0025): each
 * read's totals rows, or null for a read whose org still has rows of the pre-packing layout
 * (migration 050), which the totals do not cover — the caller reads those pack by pack.
 */
export async function readTotals(pool: Pool, queries: readonly RollupQuery[]): Promise<(RollupRow[] | null)[]> {
  const result = await pool.query<{ read: number; bucket_start: number | null; packed: Buffer | null }>(
    `SELECT r.read, x.bucket_start, x.packed
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::int[]) AS r(org_id, granularity, range_from, range_to, read)
       CROSS JOIN LATERAL (
         SELECT NULL::bigint AS bucket_start, NULL::bytea AS packed WHERE EXISTS (SELECT 1 FROM rollups WHERE org_id = r.org_id COLLATE "C")
         UNION ALL
         SELECT bucket_start, packed FROM rollup_totals
          WHERE org_id = r.org_id COLLATE "C" AND granularity = r.granularity COLLATE "C"
            AND bucket_start >= r.range_from AND bucket_start < r.range_to
       ) AS x
      ORDER BY r.read, x.bucket_start NULLS FIRST`,
    [
      textArray(queries.map((q) => q.orgId)),
      textArray(queries.map((q) => q.granularity)),
      numberArray(queries.map((q) => q.from)),
      numberArray(queries.map((q) => q.to)),
      numberArray(queries.map((_, read) => read)),
    ],
  );
  const answers = queries.map((): RollupRow[] | null => []);
  const wanted = queries.map((q) => (q.metrics === undefined ? null : new Set(q.metrics)));
  for (const row of result.rows) {
    const query = queries[row.read]!;
    const out = answers[row.read]!;
    // The marker sorts first (NULLS FIRST): the read then gets nothing from the totals.
    if (row.bucket_start === null || row.packed === null) answers[row.read] = null;
    else if (out !== null) unpackTotals(query.orgId, query.granularity, row.bucket_start, row.packed, wanted[row.read]!, out);
  }
  return answers;
}

/** Inside a whole-bucket replace: these buckets' totals (null = the bucket has no global rows). */
export async function writeBucketTotals(client: PoolClient, orgId: string, granularity: Granularity, totals: readonly BucketTotals[]): Promise<void> {
  const kept = totals.filter((t): t is BucketTotals & { packed: Buffer } => t.packed !== null);
  const gone = totals.filter((t) => t.packed === null).map((t) => t.bucketStart);
  if (kept.length > 0) {
    // Re-aggregating unchanged buckets rewrites nothing (as for packs, ADR 0011).
    await client.query(
      `INSERT INTO rollup_totals (org_id, granularity, bucket_start, packed)
       SELECT $1::text, $2::text, u.* FROM unnest($3::bigint[], $4::bytea[]) AS u
       ON CONFLICT (org_id, granularity, bucket_start) DO UPDATE SET packed = excluded.packed
        WHERE rollup_totals.packed IS DISTINCT FROM excluded.packed`,
      [orgId, granularity, numberArray(kept.map((t) => t.bucketStart)), binaryByteaArray(kept.map((t) => t.packed))],
    );
  }
  if (gone.length > 0) {
    await client.query('DELETE FROM rollup_totals WHERE org_id = $1 AND granularity = $2 AND bucket_start = ANY($3::bigint[])', [orgId, granularity, numberArray(gone)]);
  }
}

/** Inside a row-level write: the totals of the buckets whose global packs it changed, read locked and rewritten. */
export async function applyTotalChanges(client: PoolClient, orgId: string, changes: readonly TotalChange[]): Promise<void> {
  if (changes.length === 0) return;
  const ids = totalsIdsOf(changes);
  const stored = await client.query<{ granularity: Granularity; bucket_start: number; packed: Buffer }>(
    `SELECT t.granularity, t.bucket_start, t.packed
       FROM unnest($2::text[], $3::bigint[]) AS k(granularity, bucket_start)
       CROSS JOIN LATERAL (
         SELECT * FROM rollup_totals AS t
          WHERE t.org_id = $1 AND t.granularity = k.granularity COLLATE "C" AND t.bucket_start = k.bucket_start FOR UPDATE
       ) AS t`,
    [orgId, textArray(ids.map((id) => id.granularity)), numberArray(ids.map((id) => id.bucketStart))],
  );
  const rewrite = rewriteTotals(stored.rows.map((row) => ({ granularity: row.granularity, bucketStart: row.bucket_start, packed: row.packed })), changes);
  if (rewrite.remove.length > 0) {
    await client.query(
      `DELETE FROM rollup_totals AS t USING unnest($2::text[], $3::bigint[]) AS k(granularity, bucket_start)
        WHERE t.org_id = $1 AND t.granularity = k.granularity COLLATE "C" AND t.bucket_start = k.bucket_start`,
      [orgId, textArray(rewrite.remove.map((id) => id.granularity)), numberArray(rewrite.remove.map((id) => id.bucketStart))],
    );
  }
  if (rewrite.write.length > 0) {
    await client.query(
      `INSERT INTO rollup_totals (org_id, granularity, bucket_start, packed)
       SELECT $1::text, u.* FROM unnest($2::text[], $3::bigint[], $4::bytea[]) AS u
       ON CONFLICT (org_id, granularity, bucket_start) DO UPDATE SET packed = excluded.packed`,
      [
        orgId,
        textArray(rewrite.write.map((t) => t.granularity)),
        numberArray(rewrite.write.map((t) => t.bucketStart)),
        binaryByteaArray(rewrite.write.map((t) => t.packed)),
      ],
    );
  }
}

/** Global packs per backfill read: bounds the memory of the one-off pass. */
const BACKFILL_CHUNK = 20_000;
/** Totals rows per backfill insert. */
const BACKFILL_WRITE = 2_000;

/**
 * Migration 063's backfill, inside the migration's transaction (under its advisory lock, so a
 * process starting meanwhile waits for it): totals of every bucket from the global packs
 * stored before it, read in chunks of whole buckets.
 */
export async function backfillPostgresTotals(client: PoolClient): Promise<number> {
  const tiers = await client.query<{ org_id: string; granularity: Granularity }>('SELECT DISTINCT org_id, granularity FROM rollup_packs');
  let written = 0;
  for (const { org_id: orgId, granularity } of tiers.rows) {
    let pending: Array<{ bucketStart: number; packed: Buffer }> = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      await client.query(
        `INSERT INTO rollup_totals (org_id, granularity, bucket_start, packed)
         SELECT $1::text, $2::text, u.* FROM unnest($3::bigint[], $4::bytea[]) AS u`,
        [orgId, granularity, numberArray(batch.map((t) => t.bucketStart)), binaryByteaArray(batch.map((t) => t.packed))],
      );
      written += batch.length;
    };
    const backfill = new TotalsBackfill((_tier, bucketStart, packed) => pending.push({ bucketStart, packed: Buffer.from(packed) }));
    let from = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const chunk = await client.query<{ bucket_start: number; metric: string; packed: Buffer }>(
        `SELECT bucket_start, metric, packed FROM rollup_packs
          WHERE org_id = $1 AND granularity = $2 AND bucket_start >= $3 AND dim_name = ''
          ORDER BY bucket_start, metric LIMIT ${BACKFILL_CHUNK}`,
        [orgId, granularity, from],
      );
      const rows = chunk.rows;
      const full = rows.length === BACKFILL_CHUNK;
      // A full chunk may end inside a bucket: that bucket is read again with the next chunk.
      const next = full ? rows[rows.length - 1]!.bucket_start : Infinity;
      if (full && rows[0]!.bucket_start === next) throw new Error(`rollup totals backfill: over ${BACKFILL_CHUNK} global packs in one bucket`);
      for (const row of rows) if (row.bucket_start < next) backfill.add(granularity, row.bucket_start, row.metric, row.packed);
      if (pending.length >= BACKFILL_WRITE) await flush();
      if (!full) break;
      from = next;
    }
    backfill.finish();
    await flush();
  }
  return written;
}

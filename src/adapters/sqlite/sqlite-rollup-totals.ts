import type { Database } from 'better-sqlite3';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import type { Pack } from '../rollup-packs.ts';
import { rewriteTotals, totalsIdsOf, totalsOfPacks, TotalsBackfill, unpackTotals, type StoredTotals, type TotalChange } from '../rollup-totals.ts';
import { lazy } from './lazy-statement.ts';

/**
 * The `rollup_totals` table (ADR 0024, migration 063) on SQLite: one row per (org, tier,
 * bucket) with every metric's scopes merged. Written inside the transactions that write the
 * packs it summarises (callers pass no transaction of their own: each method runs inside one).
 */
export function sqliteRollupTotals(db: Database) {
  const sql = lazy(() => ({
    readRange: db
      .prepare<[string, Granularity, number, number], [bucketStart: number, packed: Buffer]>(
        'SELECT bucket_start, packed FROM rollup_totals WHERE org_id = ? AND granularity = ? AND bucket_start >= ? AND bucket_start < ? ORDER BY bucket_start',
      )
      .raw(),
    readBuckets: db
      .prepare<[{ org: string; ids: string }], [granularity: Granularity, bucketStart: number, packed: Buffer]>(
        `SELECT t.granularity, t.bucket_start, t.packed FROM json_each(@ids) AS k CROSS JOIN rollup_totals AS t
          WHERE t.org_id = @org AND t.granularity = k.value ->> 0 AND t.bucket_start = k.value ->> 1`,
      )
      .raw(),
    put: db.prepare<[string, Granularity, number, Uint8Array]>(
      `INSERT INTO rollup_totals (org_id, granularity, bucket_start, packed) VALUES (?, ?, ?, ?)
       ON CONFLICT (org_id, granularity, bucket_start) DO UPDATE SET packed = excluded.packed`,
    ),
    remove: db.prepare<[string, Granularity, number]>('DELETE FROM rollup_totals WHERE org_id = ? AND granularity = ? AND bucket_start = ?'),
    removeBefore: db.prepare<[Granularity, number]>('DELETE FROM rollup_totals WHERE granularity = ? AND bucket_start < ?'),
    removeOrg: db.prepare<[string]>('DELETE FROM rollup_totals WHERE org_id = ?'),
  }));

  return {
    /** Merged global rows of every bucket in [from, to) (of the `wanted` metrics; null = all), in (bucket, metric) order. */
    read(orgId: string, granularity: Granularity, from: number, to: number, wanted: ReadonlySet<string> | null): RollupRow[] {
      const rows: RollupRow[] = [];
      for (const [bucketStart, packed] of sql().readRange.all(orgId, granularity, from, to)) unpackTotals(orgId, granularity, bucketStart, packed, wanted, rows);
      return rows;
    },
    /** Inside a whole-bucket replace: the replaced buckets' totals from the packs written. */
    replace(orgId: string, granularity: Granularity, buckets: Iterable<number>, packs: readonly Pack[]): void {
      const { put, remove } = sql();
      for (const { bucketStart, packed } of totalsOfPacks(buckets, packs)) {
        if (packed === null) remove.run(orgId, granularity, bucketStart);
        else put.run(orgId, granularity, bucketStart, packed);
      }
    },
    /** Inside a row-level write: the totals of the buckets whose global packs it changed. */
    apply(orgId: string, changes: readonly TotalChange[]): void {
      if (changes.length === 0) return;
      const { readBuckets, put, remove } = sql();
      const ids = totalsIdsOf(changes).map((id) => [id.granularity, id.bucketStart]);
      const stored: StoredTotals[] = readBuckets.all({ org: orgId, ids: JSON.stringify(ids) }).map(([granularity, bucketStart, packed]) => ({ granularity, bucketStart, packed }));
      const rewrite = rewriteTotals(stored, changes);
      for (const id of rewrite.remove) remove.run(orgId, id.granularity, id.bucketStart);
      for (const t of rewrite.write) put.run(orgId, t.granularity, t.bucketStart, t.packed);
    },
    removeBefore(granularity: Granularity, cutoff: number): void {
      sql().removeBefore.run(granularity, cutoff);
    },
    removeOrg(orgId: string): void {
      sql().removeOrg.run(orgId);
    },
  };
}

/** Global packs per backfill read: bounds the memory of the one-off pass. */
const BACKFILL_CHUNK = 20_000;

/**
 * Migration 063's backfill, inside the transaction that creates the table: totals of every
 * bucket from the global packs stored before it, read in chunks of whole buckets.
 */
export function backfillSqliteTotals(db: Database): number {
  const put = db.prepare<[string, Granularity, number, Uint8Array]>('INSERT INTO rollup_totals (org_id, granularity, bucket_start, packed) VALUES (?, ?, ?, ?)');
  const tiers = db.prepare<[], [orgId: string, granularity: Granularity]>('SELECT DISTINCT org_id, granularity FROM rollup_packs').raw();
  const chunk = db
    .prepare<[string, Granularity, number], [bucketStart: number, metric: string, packed: Buffer]>(
      `SELECT bucket_start, metric, packed FROM rollup_packs
        WHERE org_id = ? AND granularity = ? AND bucket_start >= ? AND dim_name = '' ORDER BY bucket_start, metric LIMIT ${BACKFILL_CHUNK}`,
    )
    .raw();
  let written = 0;
  for (const [orgId, granularity] of tiers.all()) {
    const backfill = new TotalsBackfill((tier, bucketStart, packed) => {
      put.run(orgId, tier, bucketStart, packed);
      written += 1;
    });
    let from = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = chunk.all(orgId, granularity, from);
      const full = rows.length === BACKFILL_CHUNK;
      // A full chunk may end inside a bucket: that bucket is read again with the next chunk.
      const next = full ? rows[rows.length - 1]![0] : Infinity;
      if (full && rows[0]![0] === next) throw new Error(`rollup totals backfill: over ${BACKFILL_CHUNK} global packs in one bucket`);
      for (const [bucketStart, metric, packed] of rows) if (bucketStart < next) backfill.add(granularity, bucketStart, metric, packed);
      if (!full) break;
      from = next;
    }
    backfill.finish();
  }
  return written;
}

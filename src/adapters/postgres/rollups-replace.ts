import type { PoolClient } from 'pg';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import { packRows, type Pack } from '../rollup-packs.ts';
import { byteaArray, numberArray, textArray } from './array-literals.ts';

/** Packed bytes per upsert statement: bounds the message size (hex doubles it). */
const BYTES_PER_STATEMENT = 4_000_000;

/**
 * Replaces every rollup of `bucketStarts` with `rows`, inside the caller's transaction, in the
 * packed layout (ADR 0006; src/adapters/rollup-packs.ts). Packs are upserted with set-based
 * statements (column arrays through unnest, no per-row round trip); a pack whose bytes did
 * not change is not written at all, so re-aggregating unchanged buckets costs reads only.
 * Packs that vanished are deleted, and so are the buckets' rows of the pre-packing layout.
 * Duplicate row keys fail (packRows) before anything is written.
 */
export async function replaceBucketRows(
  client: PoolClient,
  orgId: string,
  granularity: Granularity,
  bucketStarts: readonly number[],
  rows: readonly RollupRow[],
): Promise<void> {
  const packs = packRows(rows);
  const buckets = numberArray(bucketStarts);
  await client.query('DELETE FROM rollups WHERE org_id = $1 AND granularity = $2 AND bucket_start = ANY($3::bigint[])', [orgId, granularity, buckets]);
  let start = 0;
  while (start < packs.length) {
    let end = start;
    let bytes = 0;
    while (end < packs.length && (end === start || bytes + packs[end]!.packed.byteLength <= BYTES_PER_STATEMENT)) {
      bytes += packs[end]!.packed.byteLength;
      end += 1;
    }
    await upsertPacks(client, orgId, granularity, packs.slice(start, end));
    start = end;
  }
  // Vanished packs are found in JS from the buckets' stored keys (a primary-key range read, no
  // blobs) and deleted by key, usually none: both a NOT EXISTS over unnest (planned as a nested
  // loop) and a hashed EXCEPT in SQL cost hundreds of milliseconds per flush.
  const stored = await client.query<{ bucket_start: string | number; metric: string; dim_name: string }>(
    'SELECT bucket_start, metric, dim_name FROM rollup_packs WHERE org_id = $1 AND granularity = $2 AND bucket_start = ANY($3::bigint[])',
    [orgId, granularity, buckets],
  );
  const kept = new Set(packs.map((p) => `${p.bucketStart}\u0000${p.metric}\u0000${p.dimName}`));
  const gone = stored.rows.filter((row) => !kept.has(`${Number(row.bucket_start)}\u0000${row.metric}\u0000${row.dim_name}`));
  if (gone.length === 0) return;
  await client.query(
    `DELETE FROM rollup_packs AS p USING unnest($3::bigint[], $4::text[], $5::text[]) AS k(bucket_start, metric, dim_name)
      WHERE p.org_id = $1 AND p.granularity = $2
        AND p.bucket_start = k.bucket_start AND p.metric = k.metric COLLATE "C" AND p.dim_name = k.dim_name COLLATE "C"`,
    [
      orgId,
      granularity,
      numberArray(gone.map((row) => Number(row.bucket_start))),
      textArray(gone.map((row) => row.metric)),
      textArray(gone.map((row) => row.dim_name)),
    ],
  );
}

async function upsertPacks(client: PoolClient, orgId: string, granularity: Granularity, packs: readonly Pack[]): Promise<void> {
  await client.query(
    `INSERT INTO rollup_packs (org_id, granularity, bucket_start, metric, dim_name, value_count, packed)
     SELECT $1::text, $2::text, u.* FROM unnest($3::bigint[], $4::text[], $5::text[], $6::int[], $7::bytea[]) AS u
     ON CONFLICT (org_id, granularity, bucket_start, metric, dim_name) DO UPDATE
        SET value_count = excluded.value_count, packed = excluded.packed
      WHERE rollup_packs.packed IS DISTINCT FROM excluded.packed`,
    [
      orgId,
      granularity,
      numberArray(packs.map((p) => p.bucketStart)),
      textArray(packs.map((p) => p.metric)),
      textArray(packs.map((p) => p.dimName)),
      numberArray(packs.map((p) => p.valueCount)),
      byteaArray(packs.map((p) => p.packed)),
    ],
  );
}

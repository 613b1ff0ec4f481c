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
  // EXCEPT is a hash set operation, linear in the packs; a NOT EXISTS over unnest (no
  // statistics) was planned as a nested loop and took minutes for a day of hours.
  await client.query(
    `DELETE FROM rollup_packs AS p
      USING (SELECT bucket_start, metric, dim_name FROM rollup_packs
              WHERE org_id = $1 AND granularity = $2 AND bucket_start = ANY($3::bigint[])
             EXCEPT
             SELECT k.bucket_start, k.metric COLLATE "C", k.dim_name COLLATE "C"
               FROM unnest($4::bigint[], $5::text[], $6::text[]) AS k(bucket_start, metric, dim_name)) AS gone
      WHERE p.org_id = $1 AND p.granularity = $2
        AND p.bucket_start = gone.bucket_start AND p.metric = gone.metric AND p.dim_name = gone.dim_name`,
    [
      orgId,
      granularity,
      buckets,
      numberArray(packs.map((p) => p.bucketStart)),
      textArray(packs.map((p) => p.metric)),
      textArray(packs.map((p) => p.dimName)),
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

import type { PoolClient } from 'pg';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import { packRows, type Pack } from '../rollup-packs.ts';
import { binaryByteaArray, numberArray, textArray } from './array-literals.ts';
import { totalsOfPacks } from '../rollup-totals.ts';
import { writeBucketTotals } from './rollup-totals.ts';

/** Packed bytes per insert or upsert statement: bounds the message size. */
const BYTES_PER_STATEMENT = 4_000_000;

type StoredPackKey = { bucket_start: string | number; metric: string; dim_name: string };

const packKey = (bucketStart: number, metric: string, dimName: string) => `${bucketStart}\u0000${metric}\u0000${dimName}`;

/** Rows packed per step: the server inserts one step's packs while Node packs the next. */
const ROWS_PER_STEP = 8_000;

/**
 * Replaces every rollup of `bucketStarts` with `rows`, inside the caller's transaction, in the
 * packed layout (ADR 0006; src/adapters/rollup-packs.ts). The buckets' stored pack keys are
 * read first (a primary-key range read, no blobs; the same statement deletes the buckets' rows
 * of the pre-packing layout), which splits the packs three ways (ADR 0011): new keys go in with
 * a plain INSERT (a full pass writes almost only these, and ON CONFLICT's speculative insertion
 * cost the server ≈ 50 % more), stored keys with an upsert that skips a pack whose bytes did not
 * change (re-aggregating unchanged buckets writes nothing), and stored keys without a new pack
 * are deleted. Column arrays go through unnest, the blobs as one binary `bytea[]`.
 *
 * Rows are packed a few buckets at a time, and each step's statements are chained without
 * waiting for them, so the server inserts one step while Node encodes the next; everything is
 * awaited before returning. A failure anywhere rolls the caller's transaction back, so a duplicate row key
 * (packRows throws) still leaves the buckets as they were. The caller holds the org lease (no
 * other writer adds keys meanwhile; if one did, the INSERT fails on the primary key and the
 * transaction rolls back).
 */
export async function replaceBucketRows(
  client: PoolClient,
  orgId: string,
  granularity: Granularity,
  bucketStarts: readonly number[],
  rows: readonly RollupRow[],
): Promise<void> {
  const storedKeys = client.query<StoredPackKey>(
    `WITH legacy AS (DELETE FROM rollups WHERE org_id = $1 AND granularity = $2 AND bucket_start = ANY($3::bigint[]))
     SELECT bucket_start, metric, dim_name FROM rollup_packs WHERE org_id = $1 AND granularity = $2 AND bucket_start = ANY($3::bigint[])`,
    [orgId, granularity, numberArray(bucketStarts)],
  );
  // One statement in flight at a time (pg deprecates overlapping client.query calls): each is
  // chained after the previous, and Node packs the next step meanwhile. After a failure the
  // rest of the chain does not run.
  let chain: Promise<unknown> = storedKeys;
  chain.catch(() => undefined);
  const then = (statement: () => Promise<unknown>): void => {
    chain = chain.then(statement);
    // Awaited below; until then a failure must not count as an unhandled rejection.
    chain.catch(() => undefined);
  };
  try {
    let gone: Map<string, StoredPackKey> | undefined;
    // Buckets no step holds (no rows left) lose their totals at the end.
    const emptied = new Set(bucketStarts);
    for (const step of rowsByBucketSteps(rows)) {
      const packs = packRows(step);
      const stepBuckets = new Set(step.map((row) => row.bucketStart));
      for (const bucket of stepBuckets) emptied.delete(bucket);
      const totals = totalsOfPacks(stepBuckets, packs);
      gone ??= storedKeyMap((await storedKeys).rows);
      const fresh: Pack[] = [];
      const rewritten: Pack[] = [];
      for (const pack of packs) (gone.delete(packKey(pack.bucketStart, pack.metric, pack.dimName)) ? rewritten : fresh).push(pack);
      for (const batch of byBytes(fresh)) then(() => writePacks(client, orgId, granularity, batch, 'insert'));
      for (const batch of byBytes(rewritten)) then(() => writePacks(client, orgId, granularity, batch, 'upsert'));
      then(() => writeBucketTotals(client, orgId, granularity, totals));
    }
    if (emptied.size > 0) then(() => writeBucketTotals(client, orgId, granularity, [...emptied].map((bucketStart) => ({ bucketStart, packed: null }))));
    gone ??= storedKeyMap((await storedKeys).rows);
    const vanished = [...gone.values()];
    if (vanished.length > 0) then(() => deletePacks(client, orgId, granularity, vanished));
  } finally {
    // Also when packing threw: the caller's ROLLBACK must wait for the statement in flight.
    await chain.catch(() => undefined);
  }
  await chain;
}

function storedKeyMap(rows: readonly StoredPackKey[]): Map<string, StoredPackKey> {
  const keys = new Map<string, StoredPackKey>();
  for (const row of rows) keys.set(packKey(Number(row.bucket_start), row.metric, row.dim_name), row);
  return keys;
}

/** The rows in steps of whole buckets, about ROWS_PER_STEP rows each (a pack never spans two steps). */
function rowsByBucketSteps(rows: readonly RollupRow[]): RollupRow[][] {
  const byBucket = new Map<number, RollupRow[]>();
  for (const row of rows) {
    const list = byBucket.get(row.bucketStart);
    if (list === undefined) byBucket.set(row.bucketStart, [row]);
    else list.push(row);
  }
  const steps: RollupRow[][] = [];
  let step: RollupRow[] = [];
  for (const bucketRows of byBucket.values()) {
    for (const row of bucketRows) step.push(row);
    if (step.length >= ROWS_PER_STEP) {
      steps.push(step);
      step = [];
    }
  }
  if (step.length > 0) steps.push(step);
  return steps;
}

/** Consecutive batches of at most BYTES_PER_STATEMENT packed bytes (a larger pack goes alone). */
function byBytes(packs: readonly Pack[]): Pack[][] {
  const batches: Pack[][] = [];
  let batch: Pack[] = [];
  let bytes = 0;
  for (const pack of packs) {
    if (batch.length > 0 && bytes + pack.packed.byteLength > BYTES_PER_STATEMENT) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(pack);
    bytes += pack.packed.byteLength;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

async function deletePacks(client: PoolClient, orgId: string, granularity: Granularity, keys: readonly StoredPackKey[]): Promise<void> {
  await client.query(
    `DELETE FROM rollup_packs AS p USING unnest($3::bigint[], $4::text[], $5::text[]) AS k(bucket_start, metric, dim_name)
      WHERE p.org_id = $1 AND p.granularity = $2
        AND p.bucket_start = k.bucket_start AND p.metric = k.metric COLLATE "C" AND p.dim_name = k.dim_name COLLATE "C"`,
    [
      orgId,
      granularity,
      numberArray(keys.map((key) => Number(key.bucket_start))),
      textArray(keys.map((key) => key.metric)),
      textArray(keys.map((key) => key.dim_name)),
    ],
  );
}

const UPSERT = `ON CONFLICT (org_id, granularity, bucket_start, metric, dim_name) DO UPDATE
        SET value_count = excluded.value_count, packed = excluded.packed
      WHERE rollup_packs.packed IS DISTINCT FROM excluded.packed`;

async function writePacks(client: PoolClient, orgId: string, granularity: Granularity, packs: readonly Pack[], mode: 'insert' | 'upsert'): Promise<void> {
  await client.query(
    `INSERT INTO rollup_packs (org_id, granularity, bucket_start, metric, dim_name, value_count, packed)
     SELECT $1::text, $2::text, u.* FROM unnest($3::bigint[], $4::text[], $5::text[], $6::int[], $7::bytea[]) AS u
     ${mode === 'upsert' ? UPSERT : ''}`,
    [
      orgId,
      granularity,
      numberArray(packs.map((p) => p.bucketStart)),
      textArray(packs.map((p) => p.metric)),
      textArray(packs.map((p) => p.dimName)),
      numberArray(packs.map((p) => p.valueCount)),
      binaryByteaArray(packs.map((p) => p.packed)),
    ],
  );
}

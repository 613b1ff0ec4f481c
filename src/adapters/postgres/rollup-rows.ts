import type { Pool, PoolClient } from 'pg';
import type { Granularity, RollupKey, RollupRow } from '../../domain/rollup-types.ts';
import type { RollupReader, RollupWriter } from '../../ports/storage.ts';
import { DecodedPacks, packIdsOf, packIdString, rewritePacks, rowsForKeys, type PackId, type StoredPackBlob } from '../rollup-pack-changes.ts';
import { assertRowChanges } from '../rollup-row-changes.ts';
import { binaryByteaArray, numberArray, textArray } from './array-literals.ts';
import { applyTotalChanges } from './rollup-totals.ts';
import { inTransaction } from './db.ts';
import { toRollupRow, type RollupDbRow } from './rollup-db-row.ts';

/**
 * Row-level rollup reads and writes for incremental coarse tiers (ADR 0007) over the packed
 * layout (ADR 0006): the packs holding the keys are read in one statement (column arrays
 * expanded by unnest, a primary-key probe each), changed in memory and written back with one
 * upsert and one delete, all in one transaction. Rows still in the pre-pack table (buckets not
 * rewritten since migration 050) are read and deleted by key too, and an upsert moves its key
 * into a pack, so no key is ever in both tables.
 */

const ROWS_PER_STATEMENT = 20_000;

// Explicit "C" on the unnested side: the table's columns are COLLATE "C", the parameters are not.
const KEYS_FROM = `unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  AS k(granularity, bucket_start, metric, project, tag, dim_name, dim_value)`;
const KEY_JOIN = `r.org_id = $1 AND r.granularity = k.granularity COLLATE "C" AND r.bucket_start = k.bucket_start
  AND r.metric = k.metric COLLATE "C" AND r.project = k.project COLLATE "C" AND r.tag = k.tag COLLATE "C"
  AND r.dim_name = k.dim_name COLLATE "C" AND r.dim_value = k.dim_value COLLATE "C"`;

type KeyedDbRow = Omit<RollupDbRow, 'org_id'>;

function keyArrays(keys: readonly RollupKey[]): string[] {
  return [
    textArray(keys.map((k) => k.granularity)),
    numberArray(keys.map((k) => k.bucketStart)),
    textArray(keys.map((k) => k.metric)),
    textArray(keys.map((k) => k.project)),
    textArray(keys.map((k) => k.tag)),
    textArray(keys.map((k) => k.dimName)),
    textArray(keys.map((k) => k.dimValue)),
  ];
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += ROWS_PER_STATEMENT) out.push(items.slice(i, i + ROWS_PER_STATEMENT));
  return out;
}

const PACK_IDS_FROM = `unnest($2::text[], $3::bigint[], $4::text[], $5::text[]) AS k(granularity, bucket_start, metric, dim_name)`;
const PACK_ID_JOIN = `p.org_id = $1 AND p.granularity = k.granularity COLLATE "C" AND p.bucket_start = k.bucket_start
  AND p.metric = k.metric COLLATE "C" AND p.dim_name = k.dim_name COLLATE "C"`;

function packIdArrays(ids: readonly PackId[]): string[] {
  return [
    textArray(ids.map((k) => k.granularity)),
    numberArray(ids.map((k) => k.bucketStart)),
    textArray(ids.map((k) => k.metric)),
    textArray(ids.map((k) => k.dimName)),
  ];
}

type Queryable = Pick<PoolClient, 'query'>;

type StoredPackDbRow = { granularity: Granularity; bucket_start: string | number; metric: string; dim_name: string; version: string; packed: Buffer | null };

async function storedPacks(db: Queryable, orgId: string, keys: Iterable<PackId>): Promise<StoredPackBlob[]> {
  const packs: StoredPackBlob[] = [];
  for (const chunk of chunks(packIdsOf(keys))) {
    // LATERAL (here and for pre-pack keys): one primary-key probe per id whatever the statistics say. A plain join let the
    // planner hash every pack of the org when the table had not been analyzed yet (~45 ms for
    // 500 ids among 50,000 packs, against ~1.5 ms probing).
    const result = await db.query<StoredPackDbRow>(
      `SELECT p.granularity, p.bucket_start, p.metric, p.dim_name, p.xmin::text AS version, p.packed
         FROM ${PACK_IDS_FROM}
        CROSS JOIN LATERAL (SELECT p.xmin, p.* FROM rollup_packs AS p WHERE ${PACK_ID_JOIN}) AS p`,
      [orgId, ...packIdArrays(chunk)],
    );
    for (const row of result.rows) {
      packs.push({ granularity: row.granularity, bucketStart: Number(row.bucket_start), metric: row.metric, dimName: row.dim_name, packed: row.packed!, version: row.version });
    }
  }
  return packs;
}

/**
 * The packs a write changes, locked (`FOR UPDATE`). A pack whose row version (`xmin`) is still
 * the one the by-key read saw comes back without its bytes: the write reuses the bytes that read
 * kept (a new version is a new `xmin`, so equal versions mean equal bytes). A steady pass then
 * receives its coarse packs once instead of twice (ADR 0015).
 */
async function packsForUpdate(db: Queryable, orgId: string, keys: Iterable<PackId>, decoded: DecodedPacks): Promise<StoredPackBlob[]> {
  const packs: StoredPackBlob[] = [];
  for (const chunk of chunks(packIdsOf(keys))) {
    // Taken now: another org's read on this adapter may replace what `decoded` keeps meanwhile.
    const kept = new Map<string, { version: string; packed: Uint8Array }>();
    const versions = chunk.map((id) => {
      const found = decoded.keptVersion(orgId, id);
      if (found !== undefined) kept.set(packIdString(id), found);
      return found?.version ?? '';
    });
    const result = await db.query<StoredPackDbRow>(
      `SELECT p.granularity, p.bucket_start, p.metric, p.dim_name, p.xmin::text AS version,
              CASE WHEN p.xmin::text = k.version THEN NULL ELSE p.packed END AS packed
         FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS k(granularity, bucket_start, metric, dim_name, version)
        CROSS JOIN LATERAL (SELECT p.xmin, p.* FROM rollup_packs AS p WHERE ${PACK_ID_JOIN} FOR UPDATE) AS p`,
      [orgId, ...packIdArrays(chunk), textArray(versions)],
    );
    for (const row of result.rows) {
      const id = { granularity: row.granularity, bucketStart: Number(row.bucket_start), metric: row.metric, dimName: row.dim_name };
      const packed = row.packed ?? kept.get(packIdString(id))?.packed;
      if (packed === undefined) throw new Error(`rollup pack ${packIdString(id)}: version ${row.version} sent back without its bytes`);
      packs.push({ ...id, packed, version: row.version });
    }
  }
  return packs;
}

async function hasLegacyRows(db: Queryable, orgId: string): Promise<boolean> {
  const result = await db.query('SELECT 1 FROM rollups WHERE org_id = $1 LIMIT 1', [orgId]);
  return (result.rowCount ?? 0) > 0;
}

export function createRollupRows(pool: Pool): Pick<RollupReader, 'readRollupsByKey'> & Pick<RollupWriter, 'writeRollupRows'> {
  const legacy = legacyRollupRows(pool);
  const decoded = new DecodedPacks();
  return {
    async readRollupsByKey(orgId, keys) {
      // Two pooled connections at once: one round trip of waiting, not two.
      const [packs, hasLegacy] = await Promise.all([storedPacks(pool, orgId, keys), hasLegacyRows(pool, orgId)]);
      const rows = rowsForKeys(orgId, packs, keys, decoded);
      if (hasLegacy) rows.push(...(await legacy.readRollupsByKey(orgId, keys)));
      return rows;
    },

    async writeRollupRows(orgId, upserts, deletes) {
      assertRowChanges(orgId, upserts, deletes);
      if (upserts.length + deletes.length === 0) return;
      // Asked beside the transaction (nothing writes pre-pack rows any more, so the answer
      // cannot change under it), saving a round trip inside it.
      const legacyCheck = hasLegacyRows(pool, orgId);
      legacyCheck.catch(() => undefined);
      await inTransaction(pool, async (client) => {
        const changes = rewritePacks(orgId, await packsForUpdate(client, orgId, [...upserts, ...deletes], decoded), upserts, deletes, decoded);
        for (const chunk of chunks(changes.remove)) {
          await client.query(`DELETE FROM rollup_packs AS p USING ${PACK_IDS_FROM} WHERE ${PACK_ID_JOIN}`, [orgId, ...packIdArrays(chunk)]);
        }
        for (const chunk of chunks(changes.write)) {
          await client.query(
            `INSERT INTO rollup_packs (org_id, granularity, bucket_start, metric, dim_name, value_count, packed)
             SELECT $1::text, u.* FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::int[], $7::bytea[]) AS u
             ON CONFLICT (org_id, granularity, bucket_start, metric, dim_name) DO UPDATE
                SET value_count = excluded.value_count, packed = excluded.packed`,
            [orgId, ...packIdArrays(chunk), numberArray(chunk.map((p) => p.valueCount)), binaryByteaArray(chunk.map((p) => p.packed))],
          );
        }
        await applyTotalChanges(client, orgId, changes.totals);
        if (await legacyCheck) await legacy.deleteKeys(client, orgId, [...deletes, ...upserts]);
        // Recomputable, and the dirty marks go only with a later durable commit (ADR 0011).
      }, { durableCommit: false });
    },
  };
}

/** By-key reads and deletes on the pre-pack `rollups` table (migration 050 left its rows readable). */
function legacyRollupRows(pool: Pool) {
  return {
    async readRollupsByKey(orgId: string, keys: readonly RollupKey[]): Promise<RollupRow[]> {
      const rows: RollupRow[] = [];
      for (const chunk of chunks(keys)) {
        const result = await pool.query<KeyedDbRow>(
          `SELECT r.granularity, r.bucket_start, r.metric, r.project, r.tag, r.dim_name, r.dim_value,
                  r.count, r.sum, r.min, r.max, r.sketch, r.last_value, r.last_ts, r.hll
             FROM ${KEYS_FROM} CROSS JOIN LATERAL (SELECT * FROM rollups AS r WHERE ${KEY_JOIN}) AS r`,
          [orgId, ...keyArrays(chunk)],
        );
        for (const row of result.rows) {
          rows.push(toRollupRow({ ...row, org_id: orgId }));
        }
      }
      return rows;
    },

    async deleteKeys(client: Queryable, orgId: string, keys: readonly RollupKey[]): Promise<void> {
      for (const chunk of chunks(keys)) {
        await client.query(`DELETE FROM rollups AS r USING ${KEYS_FROM} WHERE ${KEY_JOIN}`, [orgId, ...keyArrays(chunk)]);
      }
    },
  };
}

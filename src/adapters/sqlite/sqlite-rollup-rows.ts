import type { Database } from 'better-sqlite3';
import type { Granularity, RollupKey, RollupRow } from '../../domain/rollup-types.ts';
import type { RollupReader, RollupWriter } from '../../ports/storage.ts';
import { DecodedPacks, packIdsOf, packIdString, rewritePacks, rowsForKeys, type PackId, type StoredPackBlob } from '../rollup-pack-changes.ts';
import { assertRowChanges } from '../rollup-row-changes.ts';
import { lazy } from './lazy-statement.ts';
import { sqliteRollupTotals } from './sqlite-rollup-totals.ts';
import { withRelaxedCommit } from './relaxed-commit.ts';
import { ROLLUP_COLUMNS, toRollup, type StoredRollup } from './sqlite-rollup-store.ts';

/**
 * Row-level rollup reads and writes for incremental coarse tiers (ADR 0007) over the packed
 * layout (ADR 0006): a key is read from, and changed inside, the pack of its (tier, bucket,
 * metric, dimension name), found by primary key; every change of a pass is one transaction.
 * Rows still in the pre-pack table (buckets not rewritten since migration 050) are read and
 * deleted by key as well, and an upsert moves its key into a pack, so no key is ever in both.
 */

const LEGACY_KEY_WHERE =
  'org_id = ? AND granularity = ? AND bucket_start = ? AND metric = ? AND project = ? AND tag = ? AND dim_name = ? AND dim_value = ?';
/** Keys (or pack ids) per batched point read. */
const READ_CHUNK = 1_000;
/** Packs per multi-row upsert (7 parameters each): one statement call instead of one per pack. */
const WRITE_CHUNK = 64;

function upsertPacks(rows: number): string {
  return `INSERT INTO rollup_packs (org_id, granularity, bucket_start, metric, dim_name, value_count, packed)
    VALUES ${Array<string>(rows).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}
    ON CONFLICT (org_id, granularity, bucket_start, metric, dim_name) DO UPDATE SET value_count = excluded.value_count, packed = excluded.packed`;
}

type KeyParams = [string, string, number, string, string, string, string, string];
type PackIdParams = [string, Granularity, number, string, string];
type StoredPackRow = [granularity: Granularity, bucketStart: number, metric: string, dimName: string, packed: Buffer];

function keyParams(orgId: string, k: RollupKey): KeyParams {
  return [orgId, k.granularity, k.bucketStart, k.metric, k.project, k.tag, k.dimName, k.dimValue];
}

function packIdParams(orgId: string, k: PackId): PackIdParams {
  return [orgId, k.granularity, k.bucketStart, k.metric, k.dimName];
}

export function sqliteRollupRows(db: Database): Pick<RollupReader, 'readRollupsByKey'> & Pick<RollupWriter, 'writeRollupRows'> {
  const decoded = new DecodedPacks();
  const sql = lazy(() => ({
    // One statement per chunk of pack ids (a JSON array of [granularity, bucket, metric, dimName]):
    // each is a primary-key seek, without a statement call per pack.
    readPacks: db
      .prepare<[{ org: string; ids: string }], StoredPackRow>(
        `SELECT p.granularity, p.bucket_start, p.metric, p.dim_name, p.packed
           FROM json_each(@ids) AS k CROSS JOIN rollup_packs AS p
          WHERE p.org_id = @org AND p.granularity = k.value ->> 0 AND p.bucket_start = k.value ->> 1
            AND p.metric = k.value ->> 2 AND p.dim_name = k.value ->> 3`,
      )
      .raw(),
    writePack: db.prepare<[...PackIdParams, number, Uint8Array]>(upsertPacks(1)),
    writePackChunk: db.prepare<unknown[]>(upsertPacks(WRITE_CHUNK)),
    removePack: db.prepare<PackIdParams>(
      'DELETE FROM rollup_packs WHERE org_id = ? AND granularity = ? AND bucket_start = ? AND metric = ? AND dim_name = ?',
    ),
    // The same batching for keys of the pre-pack table ([granularity, bucket, metric, project, tag, dimName, dimValue]).
    readLegacy: db
      .prepare<[{ org: string; keys: string }], StoredRollup>(
        `SELECT ${ROLLUP_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')}
           FROM json_each(@keys) AS k CROSS JOIN rollups AS r
          WHERE r.org_id = @org AND r.granularity = k.value ->> 0 AND r.bucket_start = k.value ->> 1 AND r.metric = k.value ->> 2
            AND r.project = k.value ->> 3 AND r.tag = k.value ->> 4 AND r.dim_name = k.value ->> 5 AND r.dim_value = k.value ->> 6`,
      )
      .raw(),
    deleteLegacy: db.prepare<KeyParams>(`DELETE FROM rollups WHERE ${LEGACY_KEY_WHERE}`),
    anyLegacy: db.prepare<[string], number>('SELECT 1 FROM rollups WHERE org_id = ? LIMIT 1').pluck(),
    totalChanges: db.prepare<[], number>('SELECT total_changes()').pluck(),
  }));

  /**
   * What the last by-key read saw, and when: `data_version` moves with every commit of another
   * connection, `total_changes()` with every row this connection changes. Both unchanged inside
   * the write's transaction means no pack changed since that read, so the write takes the packs
   * that read found (and knows the ones it did not find are still absent) instead of reading
   * them again (ADR 0015). Anything else reads them again, as before.
   */
  let lastRead: { orgId: string; dataVersion: number; totalChanges: number; asked: Set<string>; found: Map<string, StoredPackBlob> } | null = null;
  const stamp = () => ({ dataVersion: db.pragma('data_version', { simple: true }) as number, totalChanges: sql().totalChanges.get()! });

  /** The stored packs of the write's keys: those the last by-key read saw when nothing changed since, the rest read now. */
  function packsToRewrite(orgId: string, keys: Iterable<PackId>): StoredPackBlob[] {
    const read = lastRead;
    lastRead = null;
    if (read === null || read.orgId !== orgId) return storedPacks(orgId, keys);
    const now = stamp();
    if (now.dataVersion !== read.dataVersion || now.totalChanges !== read.totalChanges) return storedPacks(orgId, keys);
    const packs: StoredPackBlob[] = [];
    const unknown: PackId[] = [];
    for (const id of packIdsOf(keys)) {
      const key = packIdString(id);
      if (!read.asked.has(key)) unknown.push(id);
      else {
        const found = read.found.get(key);
        if (found !== undefined) packs.push(found);
      }
    }
    if (unknown.length > 0) packs.push(...storedPacksOf(orgId, unknown));
    return packs;
  }

  function storedPacks(orgId: string, keys: Iterable<PackId>): StoredPackBlob[] {
    return storedPacksOf(orgId, packIdsOf(keys));
  }

  function storedPacksOf(orgId: string, ids: readonly PackId[]): StoredPackBlob[] {
    const { readPacks } = sql();
    const packs: StoredPackBlob[] = [];
    for (let i = 0; i < ids.length; i += READ_CHUNK) {
      const chunk = ids.slice(i, i + READ_CHUNK).map((k) => [k.granularity, k.bucketStart, k.metric, k.dimName]);
      for (const [granularity, bucketStart, metric, dimName, packed] of readPacks.all({ org: orgId, ids: JSON.stringify(chunk) })) {
        packs.push({ granularity, bucketStart, metric, dimName, packed });
      }
    }
    return packs;
  }

  const totals = sqliteRollupTotals(db);
  const writeTx = db.transaction((orgId: string, upserts: readonly RollupRow[], deletes: readonly RollupKey[]) => {
    const { writePack, writePackChunk, removePack, deleteLegacy, anyLegacy } = sql();
    const changes = rewritePacks(orgId, packsToRewrite(orgId, [...upserts, ...deletes]), upserts, deletes, decoded);
    for (const id of changes.remove) removePack.run(...packIdParams(orgId, id));
    const { write } = changes;
    let next = 0;
    for (; next + WRITE_CHUNK <= write.length; next += WRITE_CHUNK) {
      writePackChunk.run(...write.slice(next, next + WRITE_CHUNK).flatMap((pack) => [...packIdParams(orgId, pack), pack.valueCount, pack.packed]));
    }
    for (const pack of write.slice(next)) writePack.run(...packIdParams(orgId, pack), pack.valueCount, pack.packed);
    totals.apply(orgId, changes.totals);
    if (anyLegacy.get(orgId) !== undefined) {
      for (const key of [...deletes, ...upserts]) deleteLegacy.run(...keyParams(orgId, key));
    }
  });

  return {
    async readRollupsByKey(orgId, keys) {
      // Stamped before reading: a commit landing between the read's statements moves the stamp.
      const before = stamp();
      const ids = packIdsOf(keys);
      const packs = storedPacksOf(orgId, ids);
      lastRead = { orgId, ...before, asked: new Set(ids.map(packIdString)), found: new Map(packs.map((pack) => [packIdString(pack), pack])) };
      const rows = rowsForKeys(orgId, packs, keys, decoded);
      if (sql().anyLegacy.get(orgId) !== undefined) {
        const { readLegacy } = sql();
        for (let i = 0; i < keys.length; i += READ_CHUNK) {
          const chunk = keys.slice(i, i + READ_CHUNK).map((k) => [k.granularity, k.bucketStart, k.metric, k.project, k.tag, k.dimName, k.dimValue]);
          for (const row of readLegacy.all({ org: orgId, keys: JSON.stringify(chunk) })) rows.push(toRollup(row));
        }
      }
      return rows;
    },
    async writeRollupRows(orgId, upserts, deletes) {
      assertRowChanges(orgId, upserts, deletes);
      if (upserts.length + deletes.length > 0) withRelaxedCommit(db, () => writeTx.immediate(orgId, upserts, deletes));
    },
  };
}

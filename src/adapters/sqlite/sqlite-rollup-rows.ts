import type { Database } from 'better-sqlite3';
import type { Granularity, RollupKey, RollupRow } from '../../domain/rollup-types.ts';
import type { RollupReader, RollupWriter } from '../../ports/storage.ts';
import { packIdsOf, rewritePacks, rowsForKeys, type PackId, type StoredPackBlob } from '../rollup-pack-changes.ts';
import { assertRowChanges } from '../rollup-row-changes.ts';
import { lazy } from './lazy-statement.ts';
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

type KeyParams = [string, string, number, string, string, string, string, string];
type PackIdParams = [string, Granularity, number, string, string];

function keyParams(orgId: string, k: RollupKey): KeyParams {
  return [orgId, k.granularity, k.bucketStart, k.metric, k.project, k.tag, k.dimName, k.dimValue];
}

function packIdParams(orgId: string, k: PackId): PackIdParams {
  return [orgId, k.granularity, k.bucketStart, k.metric, k.dimName];
}

export function sqliteRollupRows(db: Database): Pick<RollupReader, 'readRollupsByKey'> & Pick<RollupWriter, 'writeRollupRows'> {
  const sql = lazy(() => ({
    readPack: db
      .prepare<PackIdParams, Buffer>(
        'SELECT packed FROM rollup_packs WHERE org_id = ? AND granularity = ? AND bucket_start = ? AND metric = ? AND dim_name = ?',
      )
      .pluck(),
    writePack: db.prepare<[...PackIdParams, number, Uint8Array]>(
      `INSERT INTO rollup_packs (org_id, granularity, bucket_start, metric, dim_name, value_count, packed) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (org_id, granularity, bucket_start, metric, dim_name) DO UPDATE SET value_count = excluded.value_count, packed = excluded.packed`,
    ),
    removePack: db.prepare<PackIdParams>(
      'DELETE FROM rollup_packs WHERE org_id = ? AND granularity = ? AND bucket_start = ? AND metric = ? AND dim_name = ?',
    ),
    readLegacy: db.prepare<KeyParams, StoredRollup>(`SELECT ${ROLLUP_COLUMNS} FROM rollups WHERE ${LEGACY_KEY_WHERE}`).raw(),
    deleteLegacy: db.prepare<KeyParams>(`DELETE FROM rollups WHERE ${LEGACY_KEY_WHERE}`),
    anyLegacy: db.prepare<[string], number>('SELECT 1 FROM rollups WHERE org_id = ? LIMIT 1').pluck(),
  }));

  function storedPacks(orgId: string, keys: Iterable<PackId>): StoredPackBlob[] {
    const { readPack } = sql();
    const packs: StoredPackBlob[] = [];
    for (const id of packIdsOf(keys)) {
      const packed = readPack.get(...packIdParams(orgId, id));
      if (packed !== undefined) packs.push({ ...id, packed });
    }
    return packs;
  }

  const writeTx = db.transaction((orgId: string, upserts: readonly RollupRow[], deletes: readonly RollupKey[]) => {
    const { writePack, removePack, deleteLegacy, anyLegacy } = sql();
    const changes = rewritePacks(orgId, storedPacks(orgId, [...upserts, ...deletes]), upserts, deletes);
    for (const id of changes.remove) removePack.run(...packIdParams(orgId, id));
    for (const pack of changes.write) writePack.run(...packIdParams(orgId, pack), pack.valueCount, pack.packed);
    if (anyLegacy.get(orgId) !== undefined) {
      for (const key of [...deletes, ...upserts]) deleteLegacy.run(...keyParams(orgId, key));
    }
  });

  return {
    async readRollupsByKey(orgId, keys) {
      const rows = rowsForKeys(orgId, storedPacks(orgId, keys), keys);
      if (sql().anyLegacy.get(orgId) !== undefined) {
        const { readLegacy } = sql();
        for (const key of keys) {
          const row = readLegacy.get(...keyParams(orgId, key));
          if (row !== undefined) rows.push(toRollup(row));
        }
      }
      return rows;
    },
    async writeRollupRows(orgId, upserts, deletes) {
      assertRowChanges(orgId, upserts, deletes);
      if (upserts.length + deletes.length > 0) writeTx.immediate(orgId, upserts, deletes);
    },
  };
}

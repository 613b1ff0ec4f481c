import type { Database } from 'better-sqlite3';
import type { RollupKey, RollupRow } from '../../domain/rollup-types.ts';
import type { RollupReader, RollupWriter } from '../../ports/storage.ts';
import { assertRowChanges } from '../rollup-row-changes.ts';
import { lazy } from './lazy-statement.ts';
import { ROLLUP_COLUMNS, ROLLUP_PLACEHOLDERS, rollupParams, toRollup, type StoredRollup } from './sqlite-rollup-store.ts';

/**
 * Row-level rollup reads and writes for incremental coarse tiers (ADR 0007): point reads by
 * primary key and an upsert/delete of individual rows across tiers in one transaction, so a
 * steady pass touches the rows it changes and never the rest of a week or month.
 */

const KEY_WHERE = 'org_id = ? AND granularity = ? AND bucket_start = ? AND metric = ? AND project = ? AND tag = ? AND dim_name = ? AND dim_value = ?';
/** Keys per batched point read. */
const READ_CHUNK = 1_000;
/** Rows per multi-row upsert (16 columns: 1,024 parameters), as in the bulk insert. */
const UPSERT_CHUNK = 64;
const ON_KEY_UPDATE = `ON CONFLICT (org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value) DO UPDATE SET
  count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, sketch = excluded.sketch,
  last_value = excluded.last_value, last_ts = excluded.last_ts, hll = excluded.hll`;

type KeyParams = [string, string, number, string, string, string, string, string];

function keyParams(orgId: string, k: RollupKey): KeyParams {
  return [orgId, k.granularity, k.bucketStart, k.metric, k.project, k.tag, k.dimName, k.dimValue];
}

export function sqliteRollupRows(db: Database): Pick<RollupReader, 'readRollupsByKey'> & Pick<RollupWriter, 'writeRollupRows'> {
  const sql = lazy(() => ({
    // One statement per chunk of keys (a JSON array of [granularity, bucket, metric, project, tag,
    // dimName, dimValue]): each is a primary-key seek, without a statement call per key.
    readMany: db
      .prepare<[{ org: string; keys: string }], StoredRollup>(
        `SELECT ${ROLLUP_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')}
           FROM json_each(@keys) AS k CROSS JOIN rollups AS r
          WHERE r.org_id = @org AND r.granularity = k.value ->> 0 AND r.bucket_start = k.value ->> 1 AND r.metric = k.value ->> 2
            AND r.project = k.value ->> 3 AND r.tag = k.value ->> 4 AND r.dim_name = k.value ->> 5 AND r.dim_value = k.value ->> 6`,
      )
      .raw(),
    deleteOne: db.prepare<KeyParams>(`DELETE FROM rollups WHERE ${KEY_WHERE}`),
    upsertOne: db.prepare(`INSERT INTO rollups (${ROLLUP_COLUMNS}) VALUES ${ROLLUP_PLACEHOLDERS} ${ON_KEY_UPDATE}`),
    upsertChunk: db.prepare(
      `INSERT INTO rollups (${ROLLUP_COLUMNS}) VALUES ${Array<string>(UPSERT_CHUNK).fill(ROLLUP_PLACEHOLDERS).join(', ')} ${ON_KEY_UPDATE}`,
    ),
  }));

  const writeTx = db.transaction((orgId: string, upserts: readonly RollupRow[], deletes: readonly RollupKey[]) => {
    const { deleteOne, upsertOne, upsertChunk } = sql();
    for (const key of deletes) deleteOne.run(...keyParams(orgId, key));
    let i = 0;
    for (; i + UPSERT_CHUNK <= upserts.length; i += UPSERT_CHUNK) {
      const params: unknown[] = [];
      for (let j = i; j < i + UPSERT_CHUNK; j++) params.push(...rollupParams(upserts[j]!));
      upsertChunk.run(params);
    }
    for (; i < upserts.length; i++) upsertOne.run(rollupParams(upserts[i]!));
  });

  return {
    async readRollupsByKey(orgId, keys) {
      const { readMany } = sql();
      const rows: RollupRow[] = [];
      for (let i = 0; i < keys.length; i += READ_CHUNK) {
        const chunk = keys.slice(i, i + READ_CHUNK).map((k) => [k.granularity, k.bucketStart, k.metric, k.project, k.tag, k.dimName, k.dimValue]);
        for (const row of readMany.all({ org: orgId, keys: JSON.stringify(chunk) })) rows.push(toRollup(row));
      }
      return rows;
    },
    async writeRollupRows(orgId, upserts, deletes) {
      assertRowChanges(orgId, upserts, deletes);
      if (upserts.length + deletes.length > 0) writeTx.immediate(orgId, upserts, deletes);
    },
  };
}

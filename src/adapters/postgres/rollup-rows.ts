import type { Pool } from 'pg';
import type { Granularity, RollupKey, RollupRow } from '../../domain/rollup-types.ts';
import type { RollupReader, RollupWriter } from '../../ports/storage.ts';
import { assertRowChanges } from '../rollup-row-changes.ts';
import { byteaArray, numberArray, textArray } from './array-literals.ts';
import { inTransaction } from './db.ts';

/**
 * Row-level rollup reads and writes for incremental coarse tiers (ADR 0007). Keys and rows
 * travel as column arrays expanded by unnest: one statement per 20,000 keys or rows, never one
 * per row, and each key is a primary-key probe on the server.
 */

const ROWS_PER_STATEMENT = 20_000;

// Explicit "C" on the unnested side: the table's columns are COLLATE "C", the parameters are not.
const KEYS_FROM = `unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  AS k(granularity, bucket_start, metric, project, tag, dim_name, dim_value)`;
const KEY_JOIN = `r.org_id = $1 AND r.granularity = k.granularity COLLATE "C" AND r.bucket_start = k.bucket_start
  AND r.metric = k.metric COLLATE "C" AND r.project = k.project COLLATE "C" AND r.tag = k.tag COLLATE "C"
  AND r.dim_name = k.dim_name COLLATE "C" AND r.dim_value = k.dim_value COLLATE "C"`;

interface KeyedDbRow {
  granularity: Granularity;
  bucket_start: number;
  metric: string;
  project: string;
  tag: string;
  dim_name: string;
  dim_value: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  sketch: Buffer | null;
  last_value: number | null;
  last_ts: number | null;
  hll: Buffer | null;
}

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

export function createRollupRows(pool: Pool): Pick<RollupReader, 'readRollupsByKey'> & Pick<RollupWriter, 'writeRollupRows'> {
  return {
    async readRollupsByKey(orgId, keys) {
      const rows: RollupRow[] = [];
      for (const chunk of chunks(keys)) {
        const result = await pool.query<KeyedDbRow>(
          `SELECT r.granularity, r.bucket_start, r.metric, r.project, r.tag, r.dim_name, r.dim_value,
                  r.count, r.sum, r.min, r.max, r.sketch, r.last_value, r.last_ts, r.hll
             FROM ${KEYS_FROM} JOIN rollups AS r ON ${KEY_JOIN}`,
          [orgId, ...keyArrays(chunk)],
        );
        for (const row of result.rows) {
          rows.push({
            orgId,
            granularity: row.granularity,
            bucketStart: row.bucket_start,
            metric: row.metric,
            project: row.project,
            tag: row.tag,
            dimName: row.dim_name,
            dimValue: row.dim_value,
            count: row.count,
            sum: row.sum,
            min: row.min,
            max: row.max,
            sketch: row.sketch === null ? null : new Uint8Array(row.sketch),
            lastValue: row.last_value,
            lastTs: row.last_ts,
            hll: row.hll === null ? null : new Uint8Array(row.hll),
          });
        }
      }
      return rows;
    },

    async writeRollupRows(orgId, upserts, deletes) {
      assertRowChanges(orgId, upserts, deletes);
      if (upserts.length + deletes.length === 0) return;
      await inTransaction(pool, async (client) => {
        for (const chunk of chunks(deletes)) {
          await client.query(`DELETE FROM rollups AS r USING ${KEYS_FROM} WHERE ${KEY_JOIN}`, [orgId, ...keyArrays(chunk)]);
        }
        for (const chunk of chunks(upserts)) {
          await client.query(
            `INSERT INTO rollups (org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value,
                                  count, sum, min, max, sketch, last_value, last_ts, hll)
             SELECT $1, u.* FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                                        $9::bigint[], $10::float8[], $11::float8[], $12::float8[], $13::bytea[],
                                        $14::float8[], $15::bigint[], $16::bytea[]) AS u
             ON CONFLICT (org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value) DO UPDATE SET
               count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max, sketch = EXCLUDED.sketch,
               last_value = EXCLUDED.last_value, last_ts = EXCLUDED.last_ts, hll = EXCLUDED.hll`,
            [
              orgId,
              ...keyArrays(chunk),
              numberArray(chunk.map((r) => r.count)),
              numberArray(chunk.map((r) => r.sum)),
              numberArray(chunk.map((r) => r.min)),
              numberArray(chunk.map((r) => r.max)),
              byteaArray(chunk.map((r) => r.sketch)),
              numberArray(chunk.map((r) => r.lastValue)),
              numberArray(chunk.map((r) => r.lastTs)),
              byteaArray(chunk.map((r) => r.hll)),
            ],
          );
        }
      });
    },
  };
}

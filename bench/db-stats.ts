import Database from 'better-sqlite3';
import path from 'node:path';
import { SQLITE_FILE_NAME } from '../src/adapters/sqlite/sqlite-storage.ts';
import type { Granularity } from '../src/domain/rollup-types.ts';
import { withPgClient, type DatabaseLocation } from './support.ts';

/** Rollup and raw-event storage as the engine reports it (tables plus their indexes). */
export interface StorageStats {
  /** Stored rows (packs of migration 050, bucket totals of migration 063, and any rows of the older one-row-per-value table). */
  rollupRows: Record<Granularity, number>;
  rollupRowsTotal: number;
  /** Partials stored (one per metric × bucket × project/tag or dimension value): the rows of the old layout. */
  rollupValues: number;
  rollupBytes: number;
  eventBytes: number;
}

interface RollupCount {
  granularity: Granularity;
  rows: number;
  vals: number;
}

function assemble(counts: RollupCount[], rollupBytes: number, eventBytes: number): StorageStats {
  const rollupRows: Record<Granularity, number> = { hour: 0, day: 0, week: 0, month: 0 };
  let values = 0;
  for (const c of counts) {
    rollupRows[c.granularity] += Number(c.rows);
    values += Number(c.vals);
  }
  const total = Object.values(rollupRows).reduce((a, b) => a + b, 0);
  return { rollupRows, rollupRowsTotal: total, rollupValues: values, rollupBytes, eventBytes };
}

const COUNT_SQL = (schema: string) => `SELECT granularity, count(*) AS rows, sum(value_count) AS vals FROM ${schema}rollup_packs GROUP BY granularity
  UNION ALL SELECT granularity, count(*) AS rows, count(*) AS vals FROM ${schema}rollups GROUP BY granularity
  UNION ALL SELECT granularity, count(*) AS rows, 0 AS vals FROM ${schema}rollup_totals GROUP BY granularity`;

export async function storageStats(location: DatabaseLocation): Promise<StorageStats> {
  if (location.engine === 'sqlite') {
    const db = new Database(path.join(location.dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      const counts = db.prepare(COUNT_SQL('')).all() as RollupCount[];
      const bytesOf = (table: string) =>
        Number(
          (db.prepare(`SELECT sum(d.pgsize) AS b FROM dbstat d JOIN sqlite_master m ON m.name = d.name WHERE m.tbl_name = ?`).get(table) as { b: number | null }).b ?? 0,
        );
      return assemble(counts, bytesOf('rollups') + bytesOf('rollup_packs') + bytesOf('rollup_totals'), bytesOf('events'));
    } finally {
      db.close();
    }
  }
  return withPgClient(location.url, async (client) => {
    const s = location.schema;
    const counts = (await client.query<RollupCount>(COUNT_SQL(`${s}.`))).rows;
    const rollupBytes = Number((await client.query(`SELECT pg_total_relation_size('${s}.rollups') + pg_total_relation_size('${s}.rollup_packs') + pg_total_relation_size('${s}.rollup_totals') AS b`)).rows[0].b);
    const partitions = await client.query(
      `SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) AS b FROM pg_inherits i WHERE i.inhparent = '${s}.events'::regclass`,
    );
    const ids = await client.query(`SELECT pg_total_relation_size('${s}.event_ids') AS b`);
    return assemble(counts, rollupBytes, Number(partitions.rows[0].b) + Number(ids.rows[0].b));
  });
}

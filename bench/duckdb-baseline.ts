import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { SQLITE_FILE_NAME } from '../src/adapters/sqlite/sqlite-storage.ts';
import { statements, type BaselineQuery } from './raw-baseline.ts';
import type { DatabaseLocation } from './support.ts';

/**
 * The same raw events in an in-process DuckDB, answering the raw baseline's questions: what a
 * team would get with no aggregation pass and no rollup table, from a columnar engine. The
 * events are exported from the benchmark's database and given DuckDB's best shape: the
 * attributes the questions read become typed columns, rows are sorted by (org, time) so
 * zone maps skip other organizations and other days. So the comparison is against DuckDB at
 * its strongest, not against JSON parsing per query.
 */

export interface DuckBaseline {
  /** Events copied in, and how long export + typed load took. */
  events: number;
  loadMs: number;
  run(query: BaselineQuery, orgId: string, from: number, to: number): Promise<number>;
  close(): void;
}

const MEMORY_LIMIT = '1GB';

/** Attributes the baseline's statements read, with their DuckDB column types. */
const TYPED_ATTRS: ReadonlyArray<[name: string, type: 'DOUBLE' | 'VARCHAR']> = [
  ['status_code', 'DOUBLE'],
  ['latency_ms', 'DOUBLE'],
  ['cost_usd', 'DOUBLE'],
  ['pages', 'DOUBLE'],
  ['failed_pages', 'DOUBLE'],
  ['total_tokens', 'DOUBLE'],
  ['model', 'VARCHAR'],
  ['country', 'VARCHAR'],
];

type RawEvent = [orgId: string, type: string, ts: number | string, project: string, tag: string, superseded: number | boolean, attrs: string];

function append(appender: DuckDBAppender, row: RawEvent): void {
  appender.appendVarchar(row[0]);
  appender.appendVarchar(row[1]);
  appender.appendBigInt(BigInt(row[2]));
  appender.appendVarchar(row[3]);
  appender.appendVarchar(row[4]);
  appender.appendBoolean(row[5] === true || row[5] === 1);
  appender.appendVarchar(row[6]);
  appender.endRow();
}

async function exportSqlite(dataDir: string, appender: DuckDBAppender): Promise<number> {
  const db = new Database(path.join(dataDir, SQLITE_FILE_NAME), { readonly: true });
  try {
    let n = 0;
    const rows = db.prepare('SELECT org_id, type, ts, project, tag, superseded, attrs FROM events').raw().iterate() as IterableIterator<RawEvent>;
    for (const row of rows) {
      append(appender, row);
      n++;
    }
    return n;
  } finally {
    db.close();
  }
}

/** One organization-day at a time through the (org_id, ts) index: bounded memory at any scale. */
async function exportPostgres(location: Extract<DatabaseLocation, { engine: 'postgres' }>, appender: DuckDBAppender): Promise<number> {
  const client = new pg.Client({ connectionString: location.url, options: `-c search_path=${location.schema}` });
  await client.connect();
  try {
    const spans = await client.query<{ org_id: string; lo: string; hi: string }>('SELECT org_id, min(ts) AS lo, max(ts) AS hi FROM events GROUP BY org_id');
    const DAY = 86_400_000;
    let n = 0;
    for (const { org_id: orgId, lo, hi } of spans.rows) {
      for (let from = Number(lo); from <= Number(hi); from += DAY) {
        const result = await client.query<RawEvent>({
          text: 'SELECT org_id, type, ts, project, tag, superseded, attrs::text FROM events WHERE org_id = $1 AND ts >= $2 AND ts < $3',
          values: [orgId, from, from + DAY],
          rowMode: 'array',
        });
        for (const row of result.rows) append(appender, row);
        n += result.rows.length;
      }
    }
    return n;
  } finally {
    await client.end();
  }
}

async function loadEvents(connection: DuckDBConnection, location: DatabaseLocation): Promise<number> {
  await connection.run('CREATE TABLE raw_events (org_id VARCHAR, type VARCHAR, ts BIGINT, project VARCHAR, tag VARCHAR, superseded BOOLEAN, attrs VARCHAR)');
  const appender = await connection.createAppender('raw_events');
  const events = location.engine === 'sqlite' ? await exportSqlite(location.dataDir, appender) : await exportPostgres(location, appender);
  appender.closeSync();
  const typed = TYPED_ATTRS.map(([name, type]) =>
    type === 'VARCHAR' ? `json_extract_string(attrs, '$.${name}') AS ${name}` : `TRY_CAST(json_extract(attrs, '$.${name}') AS DOUBLE) AS ${name}`,
  );
  await connection.run(
    `CREATE TABLE events AS SELECT org_id, type, ts, project, tag, superseded, ${typed.join(', ')} FROM raw_events ORDER BY org_id, ts`,
  );
  await connection.run('DROP TABLE raw_events');
  return events;
}

/**
 * Opens a DuckDB in a temporary file (default threads: every core) and copies the events in.
 * A file rather than memory, with a memory limit, so 10M events with their JSON text spill
 * to disk instead of taking gigabytes; the questions then run from its buffer pool.
 */
export async function openDuckBaseline(location: DatabaseLocation): Promise<DuckBaseline> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meterboard-bench-duckdb-'));
  const instance = await DuckDBInstance.create(path.join(dir, 'events.duckdb'), { memory_limit: MEMORY_LIMIT, temp_directory: dir });
  const connection = await instance.connect();
  const started = performance.now();
  const events = await loadEvents(connection, location);
  const loadMs = performance.now() - started;
  const sql = statements((name) => name, 'NOT superseded', 'ts // 86400000');
  const prepared = new Map<BaselineQuery, Awaited<ReturnType<DuckDBConnection['prepare']>>[]>();
  for (const [query, list] of Object.entries(sql) as Array<[BaselineQuery, string[]]>) {
    prepared.set(query, await Promise.all(list.map((text) => connection.prepare(text))));
  }
  return {
    events,
    loadMs,
    async run(query, orgId, from, to) {
      let rows = 0;
      for (const statement of prepared.get(query)!) {
        statement.bindVarchar(1, orgId);
        statement.bindBigInt(2, BigInt(from));
        statement.bindBigInt(3, BigInt(to));
        rows += (await statement.runAndReadAll()).currentRowCount;
      }
      return rows;
    },
    close() {
      connection.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

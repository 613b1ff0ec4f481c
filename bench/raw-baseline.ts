import Database from 'better-sqlite3';
import path from 'node:path';
import pg from 'pg';
import { SQLITE_FILE_NAME } from '../src/adapters/sqlite/sqlite-storage.ts';
import type { DatabaseLocation } from './support.ts';

/**
 * Seed 002's approach, the baseline the rollups are measured against: every request runs
 * GROUP BY queries over the raw events of its range. One query set per endpoint; attribute
 * access is each engine's JSON extraction (attributes are stored as JSON text).
 */

export type BaselineQuery = 'dashboard' | 'summary' | 'series' | 'breakdown';

export interface RawBaseline {
  run(query: BaselineQuery, orgId: string, from: number, to: number): Promise<number>;
  close(): Promise<void>;
}

/** How an engine reads one attribute: a JSON extraction, or a typed column (DuckDB). */
export type Attr = (name: string, text?: boolean) => string;

/** `day` is the engine's integer division of ts by a day (DuckDB's `/` is a float division). */
export function statements(attr: Attr, notSuperseded: string, day = 'ts / 86400000'): Record<BaselineQuery, string[]> {
  const num = (name: string) => `coalesce(${attr(name)}, 0)`;
  const where = `org_id = $1 AND ts >= $2 AND ts < $3 AND ${notSuperseded}`;
  const api = `${where} AND type = 'api_request'`;
  return {
    // requests success/error, cost and mean latency per day; errors by status; top models; top countries.
    dashboard: [
      `SELECT ${day} AS day,
         sum(CASE WHEN ${attr('status_code')} < 400 THEN 1 ELSE 0 END) AS success,
         sum(CASE WHEN ${attr('status_code')} >= 400 THEN 1 ELSE 0 END) AS error,
         sum(${num('cost_usd')}) AS cost, avg(${attr('latency_ms')}) AS latency
       FROM events WHERE ${api} GROUP BY day ORDER BY day`,
      `SELECT ${attr('status_code')} AS label, count(*) AS value FROM events
       WHERE ${api} AND ${attr('status_code')} >= 400 GROUP BY label ORDER BY value DESC`,
      `SELECT ${attr('model', true)} AS name, count(*) AS requests FROM events WHERE ${api} GROUP BY name ORDER BY requests DESC LIMIT 10`,
      `SELECT ${attr('country', true)} AS code, count(*) AS requests FROM events WHERE ${api} GROUP BY code ORDER BY requests DESC LIMIT 10`,
    ],
    summary: [
      `SELECT type, count(*) AS n, sum(${num('cost_usd')}) AS cost, sum(${num('pages')}) AS pages,
         sum(${num('failed_pages')}) AS failed, sum(${num('total_tokens')}) AS tokens,
         sum(${num('latency_ms')}) AS latency, min(${attr('latency_ms')}) AS lo, max(${attr('latency_ms')}) AS hi
       FROM events WHERE ${where} GROUP BY type`,
    ],
    series: [
      `SELECT ${day} AS day, type, count(*) AS n, sum(${num('cost_usd')}) AS cost, sum(${num('pages')}) AS pages,
         sum(${num('total_tokens')}) AS tokens
       FROM events WHERE ${where} GROUP BY day, type ORDER BY day`,
    ],
    // requests by model, largest first (the breakdown endpoint's default limit).
    breakdown: [
      `SELECT ${attr('model', true)} AS name, count(*) AS requests FROM events WHERE ${api} GROUP BY name ORDER BY requests DESC LIMIT 10`,
    ],
  };
}

export function openRawBaseline(location: DatabaseLocation): RawBaseline {
  if (location.engine === 'sqlite') {
    const db = new Database(path.join(location.dataDir, SQLITE_FILE_NAME), { readonly: true });
    const sql = statements((name) => `json_extract(attrs, '$.${name}')`, 'superseded = 0');
    const prepared = Object.fromEntries(
      Object.entries(sql).map(([key, list]) => [key, list.map((text) => db.prepare(text.replaceAll('$1', '@org').replaceAll('$2', '@from').replaceAll('$3', '@to')))]),
    ) as Record<BaselineQuery, Database.Statement[]>;
    return {
      async run(query, orgId, from, to) {
        let rows = 0;
        for (const statement of prepared[query]) rows += statement.all({ org: orgId, from, to }).length;
        return rows;
      },
      async close() {
        db.close();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: location.url, max: 2, options: `-c search_path=${location.schema}` });
  const sql = statements((name, text?: boolean) => (text ? `(attrs->>'${name}')` : `(attrs->>'${name}')::float8`), 'superseded = false');
  return {
    async run(query, orgId, from, to) {
      let rows = 0;
      for (const text of sql[query]) rows += (await pool.query(text, [orgId, from, to])).rowCount ?? 0;
      return rows;
    },
    async close() {
      await pool.end();
    },
  };
}

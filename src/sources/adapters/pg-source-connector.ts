import pg from 'pg';
import type { Pool } from 'pg';
import type { Logger } from '../../ports/logger.ts';
import type { SourceConnection, SourceConnector } from '../ports.ts';
import type { SourceConfig } from '../source-config.ts';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Source values as attributes want them: counts and money as numbers, not pg's strings. */
const numericTypes = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
  }) as typeof pg.types.getTypeParser,
};

export interface PgSourceConnectorOptions {
  log: Logger;
  /** Give up connecting after this long (a down source must not hold a pull for minutes). */
  connectTimeoutMs?: number;
  /** Longest single query; 5 minutes when absent. */
  statementTimeoutMs?: number;
}

/**
 * One small pool per PostgreSQL source, opened on first use and kept between pulls. Sessions
 * are read-only and named `meterboard-source:<name>` (visible in pg_stat_activity). Errors of
 * idle pooled connections (source restarted, network cut) are logged, never thrown: the pool
 * replaces the connection and the next query reports the outage to the pull.
 */
export function createPgSourceConnector(options: PgSourceConnectorOptions): SourceConnector {
  const pools = new Map<string, { url: string; pool: Pool }>();

  const poolFor = (source: SourceConfig): Pool => {
    const existing = pools.get(source.name);
    if (existing !== undefined && existing.url === source.url) return existing.pool;
    const settings = ['-c default_transaction_read_only=on', `-c statement_timeout=${options.statementTimeoutMs ?? 300_000}`];
    if (source.schema !== undefined) settings.push(`-c search_path=${source.schema}`);
    const pool = new pg.Pool({
      connectionString: source.url,
      max: 2,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 60_000,
      application_name: `meterboard-source:${source.name}`,
      options: settings.join(' '),
      types: numericTypes,
    });
    pool.on('error', (error) => options.log.warn({ err: error, source: source.name }, 'idle connection to a source failed; it will be replaced'));
    pools.set(source.name, { url: source.url, pool });
    if (existing !== undefined) void existing.pool.end().catch(() => undefined);
    return pool;
  };

  return {
    connection(source): SourceConnection {
      return {
        async query(sql, params = []) {
          const result = await poolFor(source).query(sql, params as unknown[]);
          return result.rows as Array<Record<string, unknown>>;
        },
      };
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map(({ pool }) => pool.end().catch(() => undefined)));
    },
  };
}

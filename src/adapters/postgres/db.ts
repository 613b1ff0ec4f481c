import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../../ports/logger.ts';

/** Schema names we accept for `search_path` isolation: plain identifiers, no quoting needed. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const INT8_OID = 20;

export interface PostgresOptions {
  url: string;
  /** Isolates every table in this schema (created by migrate) via search_path; `public` when absent. */
  schema?: string;
  /** Pool size; 10 when absent. */
  maxConnections?: number;
  /**
   * Keep organization rows with their data version between changes, told by a LISTEN
   * connection of their own (ADR 0022); true when absent.
   */
  rememberOrgs?: boolean;
  /** Where failures of idle pooled connections are reported; a process warning when absent. */
  log?: Logger;
}

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name "${schema}": use lower-case letters, digits and _`);
  }
}

/**
 * Every instant and counter is a bigint column holding epoch milliseconds or a count, all far
 * below 2^53, so they are returned as JS numbers instead of pg's default strings.
 */
const numericInt8Types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
  }) as typeof pg.types.getTypeParser,
};

export function createPool(options: PostgresOptions): Pool {
  if (options.schema !== undefined) assertSchemaName(options.schema);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    // Fail instead of hanging when the server is down or the pool stays exhausted.
    connectionTimeoutMillis: 10_000,
    types: numericInt8Types,
    // Applied at connection start-up, so every pooled connection sees only the chosen schema.
    ...(options.schema !== undefined ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle connection cut by the server (restart, failover) is dropped and later replaced by
  // the pool; without a listener the 'error' event would crash the process.
  pool.on('error', (error) => {
    const message = 'idle PostgreSQL connection failed; the pool will open a new one';
    if (options.log !== undefined) options.log.warn({ err: error }, message);
    else process.emitWarning(`${message}: ${error.message}`);
  });
  // The pool listens only while a client is idle in it. A connection cut while a client is
  // checked out (between two statements of a transaction) would emit an unhandled 'error' and
  // kill the process; with this listener the next statement on that client fails instead, and
  // inTransaction discards the client.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      options.log?.warn({ err: error }, 'PostgreSQL connection failed while in use; the statement on it fails and it is discarded');
    });
  });
  return pool;
}

export interface TransactionOptions {
  /**
   * `false`: COMMIT returns before the server flushes the transaction's WAL (`SET LOCAL
   * synchronous_commit = off`). A server crash may then lose it, but never a later durable
   * commit without it: only for writes something else redoes until a durable commit that
   * follows them confirms them (rollups: ADR 0011).
   */
  durableCommit?: boolean;
}

/** Runs `work` in one transaction on one connection; rolls back and rethrows on any error. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // One round trip either way (a simple query may hold several statements).
    await client.query(options.durableCommit === false ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A connection that cannot even roll back is discarded instead of returned to the pool.
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** SQLSTATE of a pg error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

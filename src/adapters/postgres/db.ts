import pg from 'pg';
import type { Pool, PoolClient } from 'pg';

/** Schema names we accept for `search_path` isolation: plain identifiers, no quoting needed. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const INT8_OID = 20;

export interface PostgresOptions {
  url: string;
  /** Isolates every table in this schema (created by migrate) via search_path; `public` when absent. */
  schema?: string;
  /** Pool size; pg's default (10) when absent. */
  maxConnections?: number;
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
  return new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types: numericInt8Types,
    // Applied at connection start-up, so every pooled connection sees only the chosen schema.
    ...(options.schema !== undefined ? { options: `-c search_path=${options.schema}` } : {}),
  });
}

/** Runs `work` in one transaction on one connection; rolls back and rethrows on any error. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
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

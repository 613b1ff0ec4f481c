import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresStorage, type PostgresStorage } from '../../src/adapters/postgres/postgres-storage.ts';

/**
 * PostgreSQL for tests. Every test file works in schemas of its own (created on demand,
 * dropped by `cleanup()`), so files run in parallel against one database.
 *
 * When the server does not answer: with CI=true `probePostgres()` throws (CI must fail, not
 * skip); otherwise it prints a loud warning and the caller skips its PostgreSQL suites.
 */
export const TEST_DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const isCi = (): boolean => process.env['CI'] === 'true' || process.env['CI'] === '1';

export async function probePostgres(url: string = TEST_DATABASE_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (isCi()) throw new Error(`PostgreSQL at ${url} is unreachable and CI=true: ${reason}`);
    const line = '!'.repeat(78);
    console.warn(`\n${line}\n!! SKIPPING PostgreSQL tests: ${url} is unreachable (${reason}).\n!! Start PostgreSQL or set DATABASE_URL; CI=true turns this into a failure.\n${line}\n`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A schema name unique to this run: `t_<label>_<random>`. */
export function uniqueSchemaName(label: string): string {
  const safe = label.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30);
  return `t_${safe}_${randomBytes(5).toString('hex')}`;
}

export interface PostgresTestSchemas {
  /** A migrated Storage in a fresh schema. */
  makeStorage(): Promise<PostgresStorage>;
  /** A Storage on an existing schema, without migrating (e.g. a second "process"). */
  openStorage(schema: string): PostgresStorage;
  /** Fresh schema name registered for cleanup (not created yet: migrate creates it). */
  newSchema(): string;
  /** Drops every schema created through this object. */
  cleanup(): Promise<void>;
}

export function postgresTestSchemas(label: string, url: string = TEST_DATABASE_URL): PostgresTestSchemas {
  const schemas: string[] = [];
  const newSchema = () => {
    const schema = uniqueSchemaName(label);
    schemas.push(schema);
    return schema;
  };
  return {
    newSchema,
    openStorage: (schema) => createPostgresStorage({ url, schema }),
    async makeStorage() {
      const storage = createPostgresStorage({ url, schema: newSchema() });
      await storage.migrate();
      return storage;
    },
    async cleanup() {
      if (schemas.length === 0) return;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

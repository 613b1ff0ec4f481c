import { readdir, readFile } from 'node:fs/promises';
import type { Pool, PoolClient } from 'pg';
import { backfillPostgresTotals } from './rollup-totals.ts';
import { inTransaction } from './db.ts';

const MIGRATIONS_DIR = new URL('../../migrations/postgres/', import.meta.url);
const MIGRATION_FILE = /^\d{3}_[a-z0-9_]+\.sql$/;

export interface Migration {
  /** File name without `.sql`, e.g. `001_init` (the same names the SQLite engine records). */
  name: string;
  sql: string;
}

/** Data a migration's new table needs, computed in its transaction (a reader never sees the table without it). */
const AFTER_MIGRATION: Record<string, (client: PoolClient) => Promise<unknown>> = {
  '063_rollup_totals': backfillPostgresTotals,
};

/** Numbered migration files (`001_init.sql`, …) in apply order. */
export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => MIGRATION_FILE.test(file)).sort();
  return Promise.all(
    files.map(async (file) => ({
      name: file.slice(0, -'.sql'.length),
      sql: await readFile(new URL(file, MIGRATIONS_DIR), 'utf8'),
    })),
  );
}

/**
 * Applies pending migrations in one transaction, under a transaction-scoped advisory lock keyed
 * by the target schema: concurrent callers (several servers/workers starting at once) queue up,
 * and the later ones find everything applied. Returns the names applied by this call.
 */
export async function applyMigrations(pool: Pool, schema: string | undefined): Promise<string[]> {
  const migrations = await loadMigrations();
  return inTransaction(pool, async (client) => {
    const lockName = `meterboard.migrate.${schema ?? 'public'}`;
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockName]);
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name text COLLATE "C" PRIMARY KEY,
         applied_at bigint NOT NULL
       )`,
    );
    const done = await client.query<{ name: string }>('SELECT name FROM schema_migrations');
    const applied = new Set(done.rows.map((row) => row.name));
    const names: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.name)) continue;
      await client.query(migration.sql);
      await AFTER_MIGRATION[migration.name]?.(client);
      await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [
        migration.name,
        Date.now(),
      ]);
      names.push(migration.name);
    }
    return names;
  });
}

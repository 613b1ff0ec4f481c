import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Storage } from '../../ports/storage.ts';
import type { StorageLocation } from '../storage-location.ts';
import { readMigrations } from '../migrations-runner.ts';
import { translateOutages } from '../outage.ts';
import { isSqliteOutage } from './outage.ts';
import { sqliteEventStore } from './sqlite-event-store.ts';
import { sqliteJobHealthStore } from './sqlite-job-health.ts';
import { sqliteOrgStore } from './sqlite-org-store.ts';
import { sqliteRollupRows } from './sqlite-rollup-rows.ts';
import { backfillSqliteTotals } from './sqlite-rollup-totals.ts';
import { sqliteRollupStore } from './sqlite-rollup-store.ts';

export const SQLITE_FILE_NAME = 'meterboard.db';
const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/sqlite/', import.meta.url));

export type SqliteStorageOptions =
  /** Directory holding `meterboard.db`; created when missing. */
  | { dataDir: string; busyTimeoutMs?: number; cacheSizeKib?: number }
  /** Explicit database file (or `:memory:`), for tools and tests. */
  | { file: string; busyTimeoutMs?: number; cacheSizeKib?: number };

/** Data a migration's new table needs, computed in its transaction (a reader never sees the table without it). */
const AFTER_MIGRATION: Record<string, (db: Database.Database) => void> = {
  '063_rollup_totals': (db) => void backfillSqliteTotals(db),
};

/** Page cache of a storage connection, KiB (see the pragma below). */
const CACHE_SIZE_KIB = 32_768;

/**
 * The embedded engine. One connection per process; a CLI process may open the same file
 * while the server runs (WAL: readers never block, writers wait up to the busy timeout).
 * The schema exists only after `migrate()`.
 */
/** The engine's name is for diagnostics (logs, tests); use cases decide nothing by it. */
export type SqliteStorage = Storage & {
  readonly engine: 'sqlite';
  /** The database file, for an aggregation thread's own connection; null for an in-memory or temporary database. */
  readonly location: StorageLocation | null;
};

export function createSqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  const file = 'file' in options ? options.file : join(options.dataDir, SQLITE_FILE_NAME);
  if ('dataDir' in options) mkdirSync(options.dataDir, { recursive: true });
  // A big rollup rewrite by another process can hold the write lock for seconds.
  const db = new Database(file, { timeout: options.busyTimeoutMs ?? 15_000 });
  // Only takes effect on a new file, and must precede WAL; event rows are a few hundred bytes.
  db.pragma('page_size = 8192');
  db.pragma('journal_mode = WAL');
  // FULL syncs the WAL on every commit: an accepted event survives a power loss, not just a crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // 32 MiB instead of 2: random idempotency keys spread primary-key inserts over the whole
  // index, and rollup rewrites touch every metric of a bucket. Not 64: an aggregation pass's
  // writes and read-backs fill the cache to its bound and it stays, and at 64 MiB that kept the
  // aggregating process over 300 MB (1M-event pass: 289 MB peak at 64 MiB, 252 at 32, 239 at 16;
  // ingest of 200k events showed no difference between 64 and 32 beyond run-to-run noise).
  // (An aggregation thread's connection asks for less: its writes go to the file, not its cache.)
  db.pragma(`cache_size = -${Math.round(options.cacheSizeKib ?? CACHE_SIZE_KIB)}`);
  db.pragma('temp_store = MEMORY');

  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT');
  const isApplied = db.prepare<[string], number>('SELECT 1 FROM schema_migrations WHERE name = ?').pluck();
  const recordApplied = db.prepare<[string, number]>('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  // Checked inside the write transaction so two processes migrating at once apply each file once.
  const applyOne = db.transaction((name: string, sql: string): boolean => {
    if (isApplied.get(name) !== undefined) return false;
    db.exec(sql);
    AFTER_MIGRATION[name]?.(db);
    recordApplied.run(name, Date.now());
    return true;
  });

  let closed = false;
  // Busy, locked, closed, I/O errors: the port promises UnavailableError, not driver codes.
  return translateOutages<SqliteStorage>({
    engine: 'sqlite',
    location: file === '' || file === ':memory:' || file.startsWith('file::memory:') ? null : { engine: 'sqlite', file },
    ...sqliteOrgStore(db),
    ...sqliteEventStore(db),
    ...sqliteRollupStore(db),
    ...sqliteRollupRows(db),
    ...sqliteJobHealthStore(db),

    async migrate() {
      const applied: string[] = [];
      for (const migration of readMigrations(MIGRATIONS_DIR)) {
        if (applyOne.immediate(migration.name, migration.sql)) applied.push(migration.name);
      }
      return applied;
    },
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  }, isSqliteOutage);
}

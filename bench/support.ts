import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createMemoryCache } from '../src/adapters/cache/memory-cache.ts';
import { createNearCache } from '../src/adapters/cache/near-cache.ts';
import { createRedisCache } from '../src/adapters/cache/redis-cache.ts';
import { createGenaiPricesCostEstimator } from '../src/adapters/enrichment/genai-prices-cost-estimator.ts';
import { createGeoipCountryLookup } from '../src/adapters/enrichment/geoip-country-lookup.ts';
import { createPostgresStorage } from '../src/adapters/postgres/postgres-storage.ts';
import { createSqliteStorage, SQLITE_FILE_NAME } from '../src/adapters/sqlite/sqlite-storage.ts';
import { createReportsRuntime } from '../src/reports/compose.ts';
import { createAlertsRuntime } from '../src/alerts/compose.ts';
import type { AppContext } from '../src/app/context.ts';
import { loadConfig } from '../src/config/config.ts';
import { systemClock } from '../src/adapters/clock/system-clock.ts';
import { buildCatalog } from '../src/domain/metrics/catalog.ts';
import type { Cache } from '../src/ports/cache.ts';
import { silentLogger } from '../src/ports/logger.ts';
import { noopTelemetry } from '../src/ports/telemetry.ts';
import { storageRoles, type Storage } from '../src/ports/storage.ts';
import { aggregationThreadCount, createDayFolder, createSourcesRuntime } from '../src/compose.ts';
import { createHeapGrowthLimit } from '../src/adapters/runtime/heap-growth.ts';

/**
 * Shared plumbing of the benchmarks: a fresh database per run (a temporary SQLite directory
 * or a PostgreSQL schema of its own), an AppContext wired from the adapters the way
 * src/compose.ts wires them, and small measuring helpers.
 */

export type Engine = 'sqlite' | 'postgres';
export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

export const BENCH_ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

export interface BenchOptions {
  pgUrl: string;
  redisUrl: string;
  /** Keep databases after the run (for poking at them). */
  keep: boolean;
  log: (line: string) => void;
}

/** Where one engine's data lives; enough for a child process to reopen it. */
export type DatabaseLocation = { engine: 'sqlite'; dataDir: string } | { engine: 'postgres'; url: string; schema: string };

export interface BenchDatabase {
  location: DatabaseLocation;
  storage: Storage;
  /** Closes this process's connection (idempotent), e.g. before a child process takes over. */
  closeStorage(): Promise<void>;
  /** Closes the storage and drops the data (unless --keep). */
  dispose(): Promise<void>;
}

export function openStorage(location: DatabaseLocation): Storage {
  return location.engine === 'sqlite'
    ? createSqliteStorage({ dataDir: location.dataDir })
    : createPostgresStorage({ url: location.url, schema: location.schema, maxConnections: 8 });
}

export async function createBenchDatabase(engine: Engine, label: string, options: BenchOptions): Promise<BenchDatabase> {
  const location: DatabaseLocation =
    engine === 'sqlite'
      ? { engine, dataDir: mkdtempSync(path.join(os.tmpdir(), `meterboard-bench-${label}-`)) }
      : { engine, url: options.pgUrl, schema: `bench_${label}_${randomBytes(4).toString('hex')}` };
  const storage = openStorage(location);
  await storage.migrate();
  let disposed = false;
  let closed: Promise<void> | null = null;
  const closeStorage = () => (closed ??= storage.close());
  return {
    location,
    storage,
    ...storageRoles(storage),
    closeStorage,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await closeStorage();
      if (options.keep) return options.log(`  kept ${describeLocation(location)}`);
      if (location.engine === 'sqlite') rmSync(location.dataDir, { recursive: true, force: true });
      else await withPgClient(location.url, (client) => client.query(`DROP SCHEMA IF EXISTS ${location.schema} CASCADE`));
    },
  };
}

export function describeLocation(location: DatabaseLocation): string {
  return location.engine === 'sqlite' ? path.join(location.dataDir, SQLITE_FILE_NAME) : `schema ${location.schema}`;
}

export async function withPgClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Brings a freshly loaded database to rest before it is measured: on PostgreSQL a
 * `VACUUM (ANALYZE)` of the run's tables (what autovacuum does on its own some minutes after a
 * bulk load — left to it, it ran during the measurements of the 10M runs, on the same two
 * cores), on SQLite a WAL checkpoint. The time it takes is returned, not hidden.
 */
export async function settleDatabase(location: DatabaseLocation): Promise<number> {
  const started = performance.now();
  if (location.engine === 'sqlite') {
    const db = new Database(path.join(location.dataDir, SQLITE_FILE_NAME));
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
  } else {
    await withPgClient(location.url, async (client) => {
      const tables = await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", [location.schema]);
      for (const { name } of tables.rows) await client.query(`VACUUM (ANALYZE) ${location.schema}.${name}`);
    });
  }
  return performance.now() - started;
}

export interface QuietWait {
  /** Time waited. */
  ms: number;
  /** This process's CPU time in each second waited (its own garbage collection after a big load, DuckDB's threads). */
  cpuMsPerSecond: number[];
}

/**
 * Before requests are timed: the file pages the load wrote are flushed (`sync`), then this
 * process — which has just loaded millions of events and copied them into DuckDB — is left
 * alone until it uses under 2 % of a core for two seconds in a row (at most `maxMs`): V8 runs
 * its memory reducer's full collections on a big, newly idle heap, and their marking threads
 * would share the two cores with the server and the client being timed.
 */
export async function waitUntilQuiet(maxMs = 60_000): Promise<QuietWait> {
  const started = performance.now();
  spawnSync('sync');
  const cpuMsPerSecond: number[] = [];
  let quietSeconds = 0;
  while (quietSeconds < 2 && performance.now() - started < maxMs) {
    const before = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const used = process.cpuUsage(before);
    const ms = (used.user + used.system) / 1000;
    cpuMsPerSecond.push(Math.round(ms));
    quietSeconds = ms < 20 ? quietSeconds + 1 : 0;
  }
  return { ms: performance.now() - started, cpuMsPerSecond };
}

/** A cache that never hits: every request does the full work (the "uncached" figures). */
export const noCache: Cache = {
  get: async () => undefined,
  set: async () => undefined,
  health: async () => 'ok',
  close: async () => undefined,
};

export type CacheKind = 'none' | 'memory' | 'redis';

export function createBenchCache(kind: CacheKind, options: BenchOptions): Cache {
  if (kind === 'none') return noCache;
  if (kind === 'memory') return createMemoryCache();
  // As src/compose.ts wires server mode: Redis with the in-process near layer (ADR 0018).
  return createNearCache(createRedisCache({ url: options.redisUrl, keyPrefix: `mb-bench-${randomBytes(4).toString('hex')}:` }));
}

/**
 * The AppContext src/compose.ts would build, over a given storage and cache, aggregation threads
 * included (AGGREGATION_THREADS from the environment; they stop with the process, or earlier
 * through `ctx.dayFolder.close()`).
 */
export function createBenchContext(storage: Storage, cache: Cache, dataDir = os.tmpdir()): AppContext & { storage: Storage } {
  const config = loadConfig(
    // The benchmarks send thousands of requests a minute with one key: the per-key limit (checked
    // on every request, as in production) is raised so that it never answers 429 to them.
    { LOG_LEVEL: 'silent', ADMIN_KEY: BENCH_ADMIN_KEY, DATA_DIR: dataDir, CONFIG_FILE: undefined, AGGREGATION_THREADS: process.env['AGGREGATION_THREADS'], RATE_LIMIT_PER_KEY: '1000000' },
    dataDir,
  );
  const dayFolder = createDayFolder(storage, aggregationThreadCount(config), silentLogger);
  return {
    config,
    storage,
    ...storageRoles(storage),
    cache,
    clock: systemClock,
    metrics: buildCatalog(config.customMetrics),
    costs: createGenaiPricesCostEstimator(),
    countries: createGeoipCountryLookup(),
    telemetry: noopTelemetry,
    log: silentLogger,
    // Opened lazily: the benchmarks never pull a source.
    sources: createSourcesRuntime(config, silentLogger),
    reports: createReportsRuntime(config),
    alerts: createAlertsRuntime(config),
    ...(dayFolder !== undefined ? { dayFolder } : {}),
    passMemory: createHeapGrowthLimit(),
  };
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHILD_BUILD_DIR = path.join(ROOT, '.bench-build');
let childrenBuilt = false;

/**
 * The compiled form of a measured child script (tsconfig.bench.json → .bench-build/), built once
 * per run. The product ships as compiled JavaScript (dist/), and a process started under tsx
 * measures the loader too: Node 20 runs its hooks on a thread of their own and keeps the
 * transformed sources, ~65 MB of RSS and ~5 % of a full pass's wall time (PERFORMANCE §2).
 */
export function compiledChild(script: string): string {
  if (!childrenBuilt) {
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const built = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.bench.json')], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error(`compiling the benchmark children failed (tsc exited with ${built.status})`);
    // The storages find their migrations next to their compiled modules, as in dist/.
    cpSync(path.join(ROOT, 'src', 'migrations'), path.join(CHILD_BUILD_DIR, 'src', 'migrations'), { recursive: true });
    childrenBuilt = true;
  }
  return path.join(CHILD_BUILD_DIR, path.relative(ROOT, script)).replace(/\.ts$/, '.js');
}

/**
 * Runs a benchmark script in a process of its own as compiled JavaScript, its input as one JSON argument, and
 * resolves with the JSON of the `RESULT {json}` line it prints (its stderr goes to ours).
 */
export function runResultChild<R>(script: string, input: unknown, label: string): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [compiledChild(script), JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${label} exited with ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as R);
    });
  });
}

// ---- measuring -------------------------------------------------------------------------------

export function percentile(sortedOrNot: readonly number[], p: number): number {
  if (sortedOrNot.length === 0) return NaN;
  const sorted = [...sortedOrNot].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Peak RSS while `work` runs. A timer samples `memoryUsage.rss()`, but synchronous SQLite work
 * can starve it, so the kernel's high-water mark is reported alongside: the true peak lies
 * between the two. On Linux the high-water mark is reset first (`/proc/self/clear_refs`), so it
 * covers `work` only, not the loading before it nor the parent's size inherited at spawn.
 */
export async function withRssSampling<T>(work: () => Promise<T>): Promise<{ result: T; sampledPeakMb: number; processMaxRssMb: number }> {
  resetPeakRss();
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, sampledPeakMb: peak / 1e6, processMaxRssMb: ownPeakRssMb() };
  } finally {
    clearInterval(timer);
  }
}

/** Restarts the kernel's high-water mark of this process (Linux ≥ 4.0); elsewhere a no-op. */
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux: the high-water mark then covers the whole process.
  }
}

/**
 * This process's own peak RSS in MB: the kernel's VmHWM on Linux. `resourceUsage().maxRSS` is
 * not that in a spawned child: it keeps the parent's resident size from the fork before exec
 * (a child of a 600 MB parent reports ≥ 576 MB while its VmHWM is 40 MB).
 */
export function ownPeakRssMb(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return (Number(match[1]) * 1024) / 1e6;
  } catch {
    // Not Linux: fall through to the portable (inherited) figure.
  }
  return (process.resourceUsage().maxRSS * 1024) / 1e6;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await work();
  return { result, ms: performance.now() - start };
}

export function fileSizeBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

// ---- formatting ----------------------------------------------------------------------------

export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fmtMs = (ms: number): string => (!Number.isFinite(ms) ? 'n/a' : ms >= 100 ? `${Math.round(ms).toLocaleString('en-US')} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`);
export const fmtSeconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a');
export const fmtMb = (mb: number): string => (Number.isFinite(mb) ? `${Math.round(mb)} MB` : 'n/a');
export const fmtBytes = (bytes: number): string =>
  !Number.isFinite(bytes) ? 'n/a' : bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
export const mark = (ok: boolean): string => (ok ? '✅' : '❌');

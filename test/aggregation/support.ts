import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryCache } from '../../src/adapters/cache/memory-cache.ts';
import { createGenaiPricesCostEstimator } from '../../src/adapters/enrichment/genai-prices-cost-estimator.ts';
import { createGeoipCountryLookup } from '../../src/adapters/enrichment/geoip-country-lookup.ts';
import { createSqliteStorage, SQLITE_FILE_NAME } from '../../src/adapters/sqlite/sqlite-storage.ts';
import { createReportsRuntime } from '../../src/reports/compose.ts';
import { createAlertsRuntime } from '../../src/alerts/compose.ts';
import type { AppContext } from '../../src/app/context.ts';
import { testAppContext, type TestAppContext } from '../support/app-context.ts';
import { ingestEvents } from '../../src/app/ingest-events.ts';
import { loadConfig } from '../../src/config/config.ts';
import { fixedClock } from '../../src/domain/clock.ts';
import type { MetricDefinition } from '../../src/domain/metrics/definition.ts';
import { buildCatalog } from '../../src/domain/metrics/catalog.ts';
import type { Granularity, RollupRow } from '../../src/domain/rollup-types.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import type { Storage } from '../../src/ports/storage.ts';
import { noopTelemetry } from '../../src/ports/telemetry.ts';
import { postgresTestSchemas } from '../support/postgres.ts';
import type { Engine } from '../support/engines.ts';
import { testSourcesRuntime } from '../support/sources-runtime.ts';
import { createDayFolder } from '../../src/compose.ts';

/**
 * Aggregation tests run every scenario on both engines, each context on a database of its
 * own (a temporary SQLite directory or a fresh PostgreSQL schema), so test files run in
 * parallel. `openPeer()` opens a second context on the same database, as a second process.
 */

export { ENGINES, type Engine } from '../support/engines.ts';

/** A gauge declared in config (the catalog's gauges are otherwise discovered from events). */
export const TEST_GAUGE: MetricDefinition = {
  name: 'users.total',
  kind: 'gauge',
  event: 'gauge',
  where: { name: 'total_users' },
  value: 'value',
  dimensions: [],
  unit: 'users',
  category: 'gauges',
  description: 'Total users (test gauge)',
};

export interface AggregationTestContext {
  engine: Engine;
  ctx: TestAppContext;
  clock: ReturnType<typeof fixedClock>;
  /** Where the data lives, for tests that must write rows the current code never writes (pre-pack rollups). */
  database: { engine: 'sqlite'; file: string } | { engine: 'postgres'; schema: string };
  /** A context with its own storage connection on the same database (a second process). */
  openPeer(): Promise<TestAppContext>;
  close(): Promise<void>;
}

export interface AggregationTestOptions {
  now: number;
  env?: Record<string, string>;
  /** Custom metrics beside the built-ins (default: the test gauge). */
  custom?: MetricDefinition[];
  /**
   * AGGREGATION_THREADS of every context (default 2, what `auto` picks on a two-core machine):
   * a backlog round of four days or more folds shares of its days on aggregation threads
   * (ADR 0016), so the suites check the path production takes; 1 folds in process.
   */
  threads?: number;
}

export async function createAggregationContext(engine: Engine, options: AggregationTestOptions): Promise<AggregationTestContext> {
  const dir = mkdtempSync(join(tmpdir(), 'meterboard-agg-'));
  const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, ...options.env }, dir);
  const schemas = postgresTestSchemas('agg');
  const schema = schemas.newSchema();
  const open = (): Storage => (engine === 'sqlite' ? createSqliteStorage({ dataDir: dir }) : schemas.openStorage(schema));
  const clock = fixedClock(options.now);
  const costs = createGenaiPricesCostEstimator();
  const countries = createGeoipCountryLookup();
  const metrics = buildCatalog(options.custom ?? [TEST_GAUGE]);
  const opened: TestAppContext[] = [];

  const makeContext = async (): Promise<TestAppContext> => {
    const storage = open();
    await storage.migrate();
    const dayFolder = createDayFolder(storage, options.threads ?? 2, silentLogger);
    const ctx = testAppContext(storage, {
      ...(dayFolder !== undefined ? { dayFolder } : {}),
      config,
      cache: createMemoryCache(),
      clock,
      metrics,
      costs,
      countries,
      telemetry: noopTelemetry,
      log: silentLogger,
      sources: testSourcesRuntime(engine === 'sqlite' ? { engine, dataDir: dir } : { engine, schema }),
      reports: createReportsRuntime(config),
      alerts: createAlertsRuntime(config),
    });
    opened.push(ctx);
    return ctx;
  };

  const ctx = await makeContext();
  return {
    engine,
    ctx,
    clock,
    database: engine === 'sqlite' ? { engine, file: join(dir, SQLITE_FILE_NAME) } : { engine, schema },
    openPeer: makeContext,
    async close() {
      for (const c of opened.splice(0)) {
        await c.dayFolder?.close();
        await c.storage.close();
        await c.sources.state.close();
        await c.cache.close();
      }
      await schemas.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Counts the shares the context's aggregation threads fold (a delegating wrapper around the
 * real threads, installed in `ctx`), so a suite can prove the parallel path ran.
 */
export function countThreadShares(ctx: AppContext): { folded: number } {
  const real = ctx.dayFolder;
  if (real === undefined) throw new Error('this context has no aggregation threads');
  const counts = { folded: 0 };
  ctx.dayFolder = {
    threads: real.threads,
    writeSlot: () => real.writeSlot(),
    close: () => real.close(),
    foldDays: async (share, beforeWrite) => {
      const result = await real.foldDays(share, beforeWrite);
      counts.folded += 1;
      return result;
    },
  };
  return counts;
}

/** Ingests through the real use case in requests of at most 10,000 events; fails on any rejection. */
export async function ingestAll(ctx: AppContext, orgId: string, events: readonly unknown[]): Promise<{ accepted: number; duplicates: number }> {
  let accepted = 0;
  let duplicates = 0;
  for (let i = 0; i < events.length; i += 10_000) {
    const result = await ingestEvents(ctx, { orgId, events: events.slice(i, i + 10_000) });
    if (result.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(result.rejected.slice(0, 3))}`);
    accepted += result.accepted;
    duplicates += result.duplicates;
  }
  return { accepted, duplicates };
}

export async function readTier(storage: Storage, orgId: string, granularity: Granularity): Promise<RollupRow[]> {
  return storage.readRollups({ orgId, granularity, from: 0, to: Number.MAX_SAFE_INTEGER });
}

export async function readAllTiers(storage: Storage, orgId: string): Promise<RollupRow[]> {
  const rows: RollupRow[] = [];
  // Not push(...rows): a tier of a dense backlog holds more rows than a call takes arguments.
  for (const granularity of ['hour', 'day', 'week', 'month'] as const) for (const row of await readTier(storage, orgId, granularity)) rows.push(row);
  return rows;
}

/** Deterministic PRNG (mulberry32), shared with the unit tests, so a failing seed can be replayed. */
export { seededRandom } from '../unit/domain/random.ts';

/** One line per row, sorted: a fast exact comparison of two rollup states (sketch bytes included). */
export function fingerprint(rows: readonly RollupRow[]): string[] {
  return rows
    .map((r) =>
      [
        r.granularity, r.bucketStart, r.metric, r.project, r.tag, r.dimName, r.dimValue, r.count, r.sum, r.min, r.max,
        r.sketch === null ? '-' : Buffer.from(r.sketch).toString('hex'), r.lastValue, r.lastTs,
        r.hll === null ? '-' : Buffer.from(r.hll).toString('hex'),
      ].join('|'),
    )
    .sort();
}

/** Oracle-sized scenarios: generous, because CI machines share two cores with PostgreSQL. */
export const HEAVY_TEST_TIMEOUT_MS = 300_000;

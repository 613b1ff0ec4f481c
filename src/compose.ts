import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { logDestination } from './adapters/logging/log-destination.ts';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.ts';
import { ConfigError } from './config/config-error.ts';
import { ValidationError } from './domain/errors.ts';
import type { AppContext } from './app/context.ts';
import { onTimezoneChangedInBackground, onTimezoneChangedQueued } from './app/rebuild-org.ts';
import { evaluateOrgAlertsAfter } from './alerts/app/after-aggregation.ts';
import type { Clock } from './domain/clock.ts';
import { systemClock } from './adapters/clock/system-clock.ts';
import { buildCatalog } from './domain/metrics/catalog.ts';
import type { MetricDefinition } from './domain/metrics/definition.ts';
import type { Cache } from './ports/cache.ts';
import type { Logger } from './ports/logger.ts';
import type { Scheduler } from './ports/scheduler.ts';
import { storageRoles, type Storage } from './ports/storage.ts';
import { createSqliteStorage, type SqliteStorage } from './adapters/sqlite/sqlite-storage.ts';
import { createPostgresStorage, type PostgresStorage } from './adapters/postgres/postgres-storage.ts';
import type { StorageLocation } from './adapters/storage-location.ts';
import { createDayFoldThreads } from './adapters/threads/day-fold-threads.ts';
import type { ParallelDayFolder } from './ports/day-folder.ts';
import { createMemoryCache } from './adapters/cache/memory-cache.ts';
import { createNearCache } from './adapters/cache/near-cache.ts';
import { createRedisCache } from './adapters/cache/redis-cache.ts';
import { createRateLimitRedis } from './adapters/cache/redis-rate-limit-client.ts';
import { createGenaiPricesCostEstimator } from './adapters/enrichment/genai-prices-cost-estimator.ts';
import { createGeoipCountryLookup } from './adapters/enrichment/geoip-country-lookup.ts';
import { createPromTelemetry } from './adapters/telemetry/prom-telemetry.ts';
import { createEmbeddedScheduler } from './adapters/scheduler/embedded-scheduler.ts';
import { createBullmqScheduler } from './adapters/scheduler/bullmq-scheduler.ts';
import { aggregateOrgJob } from './worker/jobs/aggregate-org.ts';
import { aggregateJob } from './worker/jobs/aggregate.ts';
import { buildServer } from './http/server.ts';
import type { SourcesRuntime } from './sources/ports.ts';
import { createSqliteSourceState } from './sources/adapters/sqlite-source-state.ts';
import { createHeapGrowthLimit } from './adapters/runtime/heap-growth.ts';
import { createPostgresSourceState } from './sources/adapters/postgres-source-state.ts';
import { createPgSourceConnector } from './sources/adapters/pg-source-connector.ts';
import { createReportsRuntime } from './reports/compose.ts';
import { registerReportRoutes } from './reports/http/reports.routes.ts';
import { createAlertsRuntime } from './alerts/compose.ts';
import { checkConfigRulesAgainstCatalog } from './alerts/domain/config-rules.ts';
import { registerAlertRoutes } from './alerts/http/alerts.routes.ts';
import { registerAdminRoutes } from './http/admin.routes.ts';
import { registerQueryRoutes } from './http/query.routes.ts';
import { registerWebRoutes } from './http/web.routes.ts';
import { registerOtlpRoutes } from './otlp/otlp.routes.ts';
import { registerDrilldownRoutes } from './drilldown/routes.ts';
import { registerMeRoutes } from './http/me.routes.ts';
import { registerPrometheusRoutes } from './prometheus/prometheus.routes.ts';

/**
 * The only place that picks adapters from Config and wires them. Everything else receives an
 * AppContext (use cases) or the pieces built here (shells).
 */

export const WEB_DIST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');

export interface ContextHandle {
  ctx: AppContext;
  close(): Promise<void>;
}

export interface ContextOptions {
  clock?: Clock;
  /** Skip prom-client's process metrics (several contexts in one process, e.g. tests). */
  processMetrics?: boolean;
}

function toDefinitions(custom: Config['customMetrics']): MetricDefinition[] {
  return custom.map((metric) => ({
    ...metric,
    dimensions: metric.dimensions ?? [],
    unit: metric.unit ?? 'count',
    category: metric.category ?? 'custom',
    description: metric.description ?? '',
  }));
}

export function createStorage(config: Readonly<Config>, log?: Logger): SqliteStorage | PostgresStorage {
  return config.databaseUrl ? createPostgresStorage({ url: config.databaseUrl, log }) : createSqliteStorage({ dataDir: config.dataDir });
}

/**
 * Most threads 'auto' picks: every thread adds a V8 heap and a connection to the aggregating
 * process, whose peak RSS must stay ≤ 300 MB (ADR 0016), and a pass is cut into few long shares.
 */
const AUTO_THREADS_CAP = 4;

/**
 * AGGREGATION_THREADS resolved: 'auto' leaves one core to the rest (the server, the database,
 * V8's own threads): measured on two cores, a second thread gained 0–15 % of a backlog pass
 * and cost ~100 MB (ADR 0016), so a two-core machine folds in process unless asked.
 */
export function aggregationThreadCount(config: Pick<Config, 'aggregationThreads'>): number {
  return config.aggregationThreads === 'auto' ? Math.max(1, Math.min(os.availableParallelism() - 1, AUTO_THREADS_CAP)) : config.aggregationThreads;
}

/** An aggregation thread's entry, next to this module: `.ts` from sources (tsx, vitest), `.js` in dist. */
const DAY_FOLD_THREAD_ENTRY = new URL(`./day-fold-thread${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Where a storage adapter's database lives, when another thread can open it (not `:memory:`). */
export function storageLocationOf(storage: Storage): StorageLocation | null {
  return (storage as Partial<Pick<SqliteStorage | PostgresStorage, 'location'>>).location ?? null;
}

/**
 * Aggregation threads for backlog passes (ADR 0016): `threads` counts the aggregating thread,
 * so 1 (or a database no thread can reopen) means none, and passes fold in process.
 */
export function createDayFolder(storage: Storage, threads: number, log: Logger): ParallelDayFolder | undefined {
  const location = storageLocationOf(storage);
  if (threads <= 1 || location === null) return undefined;
  return createDayFoldThreads({ entry: DAY_FOLD_THREAD_ENTRY, storage: location, threads: threads - 1, log });
}

/** SQL sources: their state in meterboard's own database (tables from migration 020) and source connections. */
export function createSourcesRuntime(config: Readonly<Config>, log: Logger): SourcesRuntime {
  return {
    state: config.databaseUrl ? createPostgresSourceState({ url: config.databaseUrl, log }) : createSqliteSourceState({ dataDir: config.dataDir }),
    connector: createPgSourceConnector({ log }),
  };
}

/** The config file's alert rules against the catalog (unknown metric, missing dimension): a ConfigError naming the rule. */
function checkConfigAlertRules(config: Readonly<Config>, metrics: readonly MetricDefinition[]): void {
  try {
    checkConfigRulesAgainstCatalog(metrics, config.alerts);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const issue = error.issues[0];
    throw new ConfigError(`config file ${issue?.field ?? 'alerts'}`, issue?.message ?? error.message);
  }
}

/** Opens storage (migrating it), the cache and the enrichment data; the caller owns `close`. */
export async function createContext(config: Readonly<Config>, options: ContextOptions = {}): Promise<ContextHandle> {
  const log = pino({ level: config.logLevel, base: { service: 'meterboard' } }, logDestination(config.logFormat));
  const metrics = buildCatalog(toDefinitions(config.customMetrics));
  checkConfigAlertRules(config, metrics);
  const storage = createStorage(config, log);
  try {
    await storage.migrate();
  } catch (error) {
    await storage.close().catch(() => undefined);
    throw error;
  }
  const dayFolder = createDayFolder(storage, aggregationThreadCount(config), log);
  // Server mode: the answers this process computed stay near as well (ADR 0018).
  const cache: Cache = config.redisUrl ? createNearCache(createRedisCache({ url: config.redisUrl, keyPrefix: 'meterboard:cache:', log })) : createMemoryCache();
  const ctx: AppContext = {
    config,
    ...storageRoles(storage),
    cache,
    clock: options.clock ?? systemClock,
    metrics,
    costs: createGenaiPricesCostEstimator(),
    countries: createGeoipCountryLookup(),
    telemetry: createPromTelemetry({
      processMetrics: options.processMetrics ?? true,
      readJobHealth: () => storage.readJobHealth(),
      readOldestDirtyHours: () => storage.oldestDirtyHours(),
    }),
    log,
    sources: createSourcesRuntime(config, log),
    reports: createReportsRuntime(config),
    alerts: createAlertsRuntime(config),
    ...(dayFolder !== undefined ? { dayFolder } : {}),
    passMemory: createHeapGrowthLimit(),
  };
  if (config.sources.length > 0) ctx.telemetry.watchSources(() => ctx.sources.state.listStatus());
  ctx.telemetry.watchAlertNotifications?.(() => ctx.alerts.store.countByStatus());
  return {
    ctx,
    async close() {
      await cache.close().catch((error: unknown) => log.warn({ err: error }, 'closing the cache failed'));
      await ctx.sources.connector.close();
      await ctx.sources.state.close().catch((error: unknown) => log.warn({ err: error }, 'closing the source state failed'));
      await ctx.reports.close().catch((error: unknown) => log.warn({ err: error }, 'closing the reports store failed'));
      await ctx.alerts.close().catch((error: unknown) => log.warn({ err: error }, 'closing the alerts store failed'));
      await dayFolder?.close().catch((error: unknown) => log.warn({ err: error }, 'closing the aggregation threads failed'));
      await storage.close();
    },
  };
}

/**
 * Embedded: in-process timers. Server: BullMQ; only the `worker` role registers the job
 * schedulers and consumes, the API process (`producer`) only submits run-now jobs.
 */
export function createScheduler(ctx: AppContext, role: 'producer' | 'worker'): Scheduler {
  const { config, log } = ctx;
  if (config.mode === 'server') {
    if (!config.redisUrl) throw new Error('REDIS_URL is required in server mode (BullMQ schedules the jobs)');
    return createBullmqScheduler({ redisUrl: config.redisUrl, log, role });
  }
  return createEmbeddedScheduler({ log });
}

/** How long an admin "aggregate now" waits for an organization another worker is aggregating. */
const ADMIN_LEASE_WAIT_MS = 60_000;

export interface ServerBuildOptions {
  logger?: boolean;
  webDistDir?: string;
  /**
   * Server mode: the scheduler that queues run-now jobs for the workers. The admin
   * "aggregate now" and the rebuild after a time-zone change then run on a worker; without
   * it (embedded mode) they run in this process.
   */
  jobs?: Pick<Scheduler, 'runNow'>;
  /** Tests: check every JSON answer against its route's response schema. */
  checkResponses?: boolean;
}

/** The HTTP server with every route file registered. */
export function createHttpServer(ctx: AppContext, options: ServerBuildOptions = {}): FastifyInstance {
  const distDir = options.webDistDir ?? WEB_DIST_DIR;
  const { jobs } = options;
  const rateLimitRedis = ctx.config.redisUrl ? createRateLimitRedis(ctx.config.redisUrl, ctx.log) : undefined;
  const app = buildServer(ctx, {
    rateLimitRedis,
    logger: options.logger === false ? false : { level: ctx.config.logLevel, redact: ['req.headers.authorization'], stream: logDestination(ctx.config.logFormat) },
    ...(options.checkResponses ? { checkResponses: true } : {}),
    onTimezoneChanged: jobs
      ? onTimezoneChangedQueued((orgId) => jobs.runNow(aggregateOrgJob.name, { orgId }))
      : (c, org) => onTimezoneChangedInBackground(c, org, (pass) => evaluateOrgAlertsAfter(c, [org.id], pass)),
    routes: [
      (scope, c) => registerQueryRoutes(scope, c),
      (scope, c) =>
        registerAdminRoutes(scope, c, jobs ? { aggregateNow: () => jobs.runNow(aggregateJob.name, { trigger: 'manual', waitForLeaseMs: ADMIN_LEASE_WAIT_MS }) } : {}),
      (scope, c) => registerOtlpRoutes(scope, c),
      (scope, c) => registerMeRoutes(scope, c),
      (scope, c) => registerDrilldownRoutes(scope, c),
      (scope, c) => registerReportRoutes(scope, c),
      (scope, c) => registerAlertRoutes(scope, c),
      (scope, c) => registerPrometheusRoutes(scope, c),
      (scope) => registerWebRoutes(scope, { distDir }),
    ],
  });
  if (rateLimitRedis) app.addHook('onClose', async () => rateLimitRedis.disconnect());
  return app;
}

export function webIsBuilt(distDir = WEB_DIST_DIR): boolean {
  return existsSync(path.join(distDir, 'index.html'));
}

/** The bundled price table, for the CLI's `pricing show` (no database needed). */
export const createCostEstimator = createGenaiPricesCostEstimator;

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createGenaiPricesCostEstimator } from '../../src/adapters/enrichment/genai-prices-cost-estimator.ts';
import { createGeoipCountryLookup } from '../../src/adapters/enrichment/geoip-country-lookup.ts';
import { createSqliteStorage } from '../../src/adapters/sqlite/sqlite-storage.ts';
import { createPromTelemetry } from '../../src/adapters/telemetry/prom-telemetry.ts';
import type { PromTelemetry } from '../../src/adapters/telemetry/prom-telemetry.ts';
import { createReportsRuntime } from '../../src/reports/compose.ts';
import { testAppContext, type TestAppContext } from './app-context.ts';
import { createAlertsRuntime } from '../../src/alerts/compose.ts';
import { loadConfig } from '../../src/config/config.ts';
import { fixedClock } from '../../src/domain/clock.ts';
import { buildServer } from '../../src/http/server.ts';
import type { ServerOptions } from '../../src/http/server.ts';
import type { Cache } from '../../src/ports/cache.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import type { Storage } from '../../src/ports/storage.ts';
import type { SourcesRuntime } from '../../src/sources/ports.ts';
import { testSourcesRuntime } from './sources-runtime.ts';
import type { Engine } from './engines.ts';
import { postgresTestSchemas } from './postgres.ts';

/**
 * An AppContext and HTTP server over a real storage engine for HTTP tests: a fresh SQLite
 * directory or a fresh PostgreSQL schema, a fixed clock, a trivial in-test cache whose health
 * the test controls, and the real enrichment and telemetry adapters.
 * `reopen()` closes the storage and opens the same database again, as a restart would.
 */

export type { Engine } from './engines.ts';

/** "Now" for every HTTP test: events must lie within raw retention (90 d) of it. */
export const TEST_NOW = Date.UTC(2030, 0, 20, 12, 0, 0);
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface TestCache extends Cache {
  healthy: boolean;
}

export function makeTestCache(): TestCache {
  const entries = new Map<string, Buffer>();
  const cache: TestCache = {
    healthy: true,
    async get(key) {
      return cache.healthy ? entries.get(key) : undefined;
    },
    async set(key, value) {
      if (cache.healthy) entries.set(key, value);
    },
    async health() {
      return cache.healthy ? 'ok' : 'degraded';
    },
    async close() {
      entries.clear();
    },
  };
  return cache;
}

export interface HttpTestContext {
  engine: Engine;
  ctx: TestAppContext;
  app: FastifyInstance;
  cache: TestCache;
  telemetry: PromTelemetry;
  clock: ReturnType<typeof fixedClock>;
  /** Closes server and storage, then opens the same database and a new server. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

export interface HttpTestOptions {
  env?: Record<string, string>;
  server?: Omit<ServerOptions, 'logger'>;
  /** PostgreSQL only: a server other than the shared test database (e.g. a test-owned one). */
  databaseUrl?: string;
}

interface EngineHandle {
  open(): Storage;
  sources(): SourcesRuntime;
  cleanup(): Promise<void>;
}

function sqliteEngine(): EngineHandle {
  const dataDir = mkdtempSync(join(tmpdir(), 'meterboard-http-'));
  return {
    open: () => createSqliteStorage({ dataDir }),
    sources: () => testSourcesRuntime({ engine: 'sqlite', dataDir }),
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

function postgresEngine(url?: string): EngineHandle {
  const schemas = postgresTestSchemas('http', url);
  const schema = schemas.newSchema();
  return { open: () => schemas.openStorage(schema), sources: () => testSourcesRuntime({ engine: 'postgres', schema }), cleanup: () => schemas.cleanup() };
}

export async function createHttpTestContext(engine: Engine, options: HttpTestOptions = {}): Promise<HttpTestContext> {
  const configDir = mkdtempSync(join(tmpdir(), 'meterboard-config-'));
  const config = loadConfig({ ADMIN_KEY: TEST_ADMIN_KEY, LOG_LEVEL: 'silent', DATA_DIR: configDir, ...options.env }, configDir);
  const handle = engine === 'sqlite' ? sqliteEngine() : postgresEngine(options.databaseUrl);
  const cache = makeTestCache();
  const telemetry = createPromTelemetry({ processMetrics: false });
  const clock = fixedClock(TEST_NOW);
  const costs = createGenaiPricesCostEstimator();
  const countries = createGeoipCountryLookup();

  const open = async () => {
    const storage = handle.open();
    await storage.migrate();
    const ctx = testAppContext(storage, { config, cache, clock, metrics: [], costs, countries, telemetry, log: silentLogger, sources: handle.sources(), reports: createReportsRuntime(config), alerts: createAlertsRuntime(config) });
    const app = buildServer(ctx, { ...options.server, logger: false, checkResponses: true });
    await app.ready();
    return { ctx, app };
  };

  const state = await open();
  const context: HttpTestContext = {
    engine,
    ctx: state.ctx,
    app: state.app,
    cache,
    telemetry,
    clock,
    async reopen() {
      await context.app.close();
      await context.ctx.storage.close();
      await context.ctx.sources.state.close();
      const next = await open();
      context.ctx = next.ctx;
      context.app = next.app;
    },
    async close() {
      await context.app.close();
      await context.ctx.storage.close();
      await context.ctx.sources.state.close();
      await handle.cleanup();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
  return context;
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
export const adminHeaders = bearer(TEST_ADMIN_KEY);

/** Creates an organization and a key of each scope through the HTTP API. */
export async function createOrgWithKeys(
  app: FastifyInstance,
  org: { id: string; name?: string; timezone?: string },
): Promise<{ ingest: string; read: string; admin: string }> {
  const created = await app.inject({ method: 'POST', url: '/api/v1/orgs', headers: adminHeaders, payload: org });
  if (created.statusCode !== 201) throw new Error(`creating org ${org.id}: ${created.statusCode} ${created.body}`);
  const keys: Record<string, string> = {};
  for (const scope of ['ingest', 'read', 'admin'] as const) {
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${org.id}/keys`,
      headers: adminHeaders,
      payload: { scope, name: `${scope} test key` },
    });
    if (response.statusCode !== 201) throw new Error(`creating ${scope} key: ${response.statusCode} ${response.body}`);
    keys[scope] = (response.json() as { key: string }).key;
  }
  return keys as { ingest: string; read: string; admin: string };
}

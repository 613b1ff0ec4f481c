import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { createMemoryCache } from '../../src/adapters/cache/memory-cache.ts';
import { createGenaiPricesCostEstimator } from '../../src/adapters/enrichment/genai-prices-cost-estimator.ts';
import { createGeoipCountryLookup } from '../../src/adapters/enrichment/geoip-country-lookup.ts';
import { createSqliteStorage, SQLITE_FILE_NAME } from '../../src/adapters/sqlite/sqlite-storage.ts';
import { createReportsRuntime } from '../../src/reports/compose.ts';
import type { ReportStoreTarget } from '../../src/reports/ports.ts';
import { createAlertsRuntime } from '../../src/alerts/compose.ts';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import type { AppContext } from '../../src/app/context.ts';
import { testAppContext, type TestAppContext } from '../support/app-context.ts';
import { loadConfig } from '../../src/config/config.ts';
import { fixedClock } from '../../src/domain/clock.ts';
import { buildCatalog } from '../../src/domain/metrics/catalog.ts';
import type { MetricDefinition } from '../../src/domain/metrics/definition.ts';
import { registerQueryRoutes } from '../../src/http/query.routes.ts';
import { buildServer } from '../../src/http/server.ts';
import type { Cache } from '../../src/ports/cache.ts';
import { silentLogger, type Logger } from '../../src/ports/logger.ts';
import { noopTelemetry } from '../../src/ports/telemetry.ts';
import { adminHeaders, bearer, createOrgWithKeys, TEST_ADMIN_KEY } from '../support/http-context.ts';
import { postgresTestSchemas, TEST_DATABASE_URL } from '../support/postgres.ts';
import type { Engine } from '../support/engines.ts';
import { testSourcesRuntime } from '../support/sources-runtime.ts';
import type { SentEvent } from './oracle.ts';

/**
 * Query API tests: a real engine (a temporary SQLite directory or a fresh PostgreSQL
 * schema), the real catalog, a real cache (in-process LRU unless the test passes one), the
 * server with the query routes, and a fixed clock. Orgs and keys are made through the API.
 */

export { ENGINES, type Engine } from '../support/engines.ts';

/** "Now" for query tests: after the 25-hour Europe/Zurich day (2026-10-25), within raw retention of the data. */
export const QUERY_NOW = Date.parse('2026-11-20T12:00:00Z');

export interface QueryTestContext {
  engine: Engine;
  ctx: TestAppContext;
  app: FastifyInstance;
  clock: ReturnType<typeof fixedClock>;
  /** Where this context's report tables live, to open a second "worker" on them. */
  reportStoreTarget: ReportStoreTarget;
  close(): Promise<void>;
}

export async function createQueryTestContext(engine: Engine, options: { cache?: Cache; log?: Logger; now?: number; smtpUrl?: string; custom?: MetricDefinition[]; env?: Record<string, string>; routes?: Array<(app: FastifyInstance, ctx: AppContext) => void> } = {}): Promise<QueryTestContext> {
  const dir = mkdtempSync(join(tmpdir(), 'meterboard-query-'));
  const config = loadConfig({ ADMIN_KEY: TEST_ADMIN_KEY, LOG_LEVEL: 'silent', DATA_DIR: dir, DEBUG_HEADERS: 'true', ...options.env }, dir);
  const schemas = postgresTestSchemas('query');
  const schema = schemas.newSchema();
  const storage = engine === 'sqlite' ? createSqliteStorage({ dataDir: dir }) : schemas.openStorage(schema);
  await storage.migrate();
  const clock = fixedClock(options.now ?? QUERY_NOW);
  const reportStoreTarget: ReportStoreTarget =
    engine === 'sqlite' ? { sqliteFile: join(dir, SQLITE_FILE_NAME) } : { postgresUrl: TEST_DATABASE_URL, postgresSchema: schema };
  const ctx = testAppContext(storage, {
    config,
    cache: options.cache ?? createMemoryCache(),
    clock,
    metrics: buildCatalog(options.custom ?? []),
    costs: createGenaiPricesCostEstimator(),
    countries: createGeoipCountryLookup(),
    telemetry: noopTelemetry,
    log: options.log ?? silentLogger,
    sources: testSourcesRuntime(engine === 'sqlite' ? { engine, dataDir: dir } : { engine, schema }),
    reports: createReportsRuntime({ ...config, smtpUrl: options.smtpUrl }, reportStoreTarget),
    alerts: createAlertsRuntime(config, reportStoreTarget),
  });
  const app = buildServer(ctx, { logger: false, checkResponses: true, routes: [registerQueryRoutes, ...(options.routes ?? [])] });
  await app.ready();
  return {
    engine,
    ctx,
    app,
    clock,
    reportStoreTarget,
    async close() {
      await app.close();
      await ctx.cache.close();
      await ctx.reports.close();
      await ctx.alerts.close();
      await storage.close();
      await ctx.sources.state.close();
      await schemas.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestOrg {
  id: string;
  keys: { ingest: string; read: string; admin: string };
}

export async function createOrg(app: FastifyInstance, org: { id: string; timezone: string }): Promise<TestOrg> {
  return { id: org.id, keys: await createOrgWithKeys(app, { ...org, name: `Org ${org.id}` }) };
}

export async function ingest(app: FastifyInstance, org: TestOrg, events: readonly SentEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/events', headers: bearer(org.keys.ingest), payload: { events: events.slice(i, i + 5000) } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ rejected: [] });
  }
}

export async function aggregate(ctx: AppContext): Promise<void> {
  await aggregateDirtyBuckets(ctx);
}

export interface JsonAnswer<T> {
  status: number;
  body: T;
  cache: string | undefined;
  raw: string;
}

export async function getJson<T = unknown>(app: FastifyInstance, url: string, key: string): Promise<JsonAnswer<T>> {
  const response = await app.inject({ method: 'GET', url, headers: bearer(key) });
  const raw = response.body;
  let body: unknown = raw;
  if (String(response.headers['content-type'] ?? '').includes('json')) body = JSON.parse(raw);
  return { status: response.statusCode, body: body as T, cache: response.headers['x-cache'] as string | undefined, raw };
}

/** Like getJson but fails the test unless the answer is 200 and parses with `schema`. */
export async function ok<T>(app: FastifyInstance, url: string, key: string, schema: { parse(value: unknown): T }): Promise<T> {
  const answer = await getJson(app, url, key);
  expect(answer.status, `${url} → ${answer.raw}`).toBe(200);
  return schema.parse(answer.body);
}

export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.append(key, String(value));
  return search.toString();
}

export { adminHeaders, bearer };

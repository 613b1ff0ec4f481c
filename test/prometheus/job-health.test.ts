import { createReportsRuntime } from '../../src/reports/compose.ts';
import { createAlertsRuntime } from '../../src/alerts/compose.ts';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/adapters/cache/memory-cache.ts';
import { createGenaiPricesCostEstimator } from '../../src/adapters/enrichment/genai-prices-cost-estimator.ts';
import { createGeoipCountryLookup } from '../../src/adapters/enrichment/geoip-country-lookup.ts';
import { createBullmqScheduler } from '../../src/adapters/scheduler/bullmq-scheduler.ts';
import { systemClock } from '../../src/adapters/clock/system-clock.ts';
import { createPromTelemetry } from '../../src/adapters/telemetry/prom-telemetry.ts';
import type { AppContext } from '../../src/app/context.ts';
import { ingestEvents } from '../../src/app/ingest-events.ts';
import { loadConfig } from '../../src/config/config.ts';
import { buildCatalog } from '../../src/domain/metrics/catalog.ts';
import { buildHealthServer, buildServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import type { Storage } from '../../src/ports/storage.ts';
import { runWorker, type RunningWorker } from '../../src/worker/run-worker.ts';
import { makeOrg } from '../factories/org.ts';
import { deleteRedisKeys, TEST_REDIS_URL, testQueuePrefix } from '../support/bullmq-redis.ts';
import { postgresTestSchemas } from '../support/postgres.ts';
import { testSourcesRuntime } from '../support/sources-runtime.ts';
import { testAppContext } from '../support/app-context.ts';

/**
 * Job health in server mode: one `serve` and one `worker` (two contexts with their own
 * PostgreSQL connections and Prometheus registries, a real BullMQ queue on Redis, a real
 * socket each). The worker runs the aggregation and serves its own /metrics and /health; the
 * serve process never aggregates, yet its last-success gauge is recent because it reads the
 * shared job health from the database.
 */


describe('job health with one serve and one worker', () => {
  const prefix = testQueuePrefix('jh');
  const schemas = postgresTestSchemas('jobhealth');
  const schema = schemas.newSchema();
  const dir = mkdtempSync(join(tmpdir(), 'meterboard-jobhealth-'));
  const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, AGGREGATE_EVERY: '1s' }, dir);
  const storages: Storage[] = [];
  let serveCtx: AppContext;
  let workerCtx: AppContext;
  let serveApp: FastifyInstance;
  let workerApp: FastifyInstance;
  let worker: RunningWorker;
  let workerScheduler: ReturnType<typeof createBullmqScheduler>;
  const org = makeOrg({ timezone: 'Europe/Zurich' });

  const makeContext = async (): Promise<AppContext> => {
    const storage = schemas.openStorage(schema);
    storages.push(storage);
    await storage.migrate();
    return testAppContext(storage, {
      config, cache: createMemoryCache(), clock: systemClock, metrics: buildCatalog([]),
      costs: createGenaiPricesCostEstimator(), countries: createGeoipCountryLookup(), log: silentLogger,
      telemetry: createPromTelemetry({ processMetrics: false, readJobHealth: () => storage.readJobHealth() }),
      sources: testSourcesRuntime({ engine: 'postgres', schema }),
      reports: createReportsRuntime(config),
      alerts: createAlertsRuntime(config),
    });
  };
  const url = (app: FastifyInstance, path: string) => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${path}`;
  const gauge = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

  beforeAll(async () => {
    serveCtx = await makeContext();
    workerCtx = await makeContext();
    serveApp = buildServer(serveCtx, { logger: false });
    await serveApp.listen({ port: 0, host: '127.0.0.1' });
    await serveCtx.orgStore.createOrg(org, Date.now());
    const now = Date.now();
    const events = Array.from({ length: 50 }, (_, i) => ({ id: `jh-${i}`, type: 'page_usage', timestamp: new Date(now - i * 60_000).toISOString(), pages: 2 }));
    await ingestEvents(serveCtx, { orgId: org.id, events });
    workerScheduler = createBullmqScheduler({ redisUrl: TEST_REDIS_URL, log: silentLogger, role: 'worker', prefix });
    worker = await runWorker(workerCtx, { scheduler: workerScheduler });
    workerApp = buildHealthServer(workerCtx, { logger: false });
    await workerApp.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await worker?.stop();
    await workerApp?.close();
    await serveApp?.close();
    for (const ctx of [serveCtx, workerCtx]) await ctx?.sources.state.close();
    for (const storage of storages) await storage.close();
    await schemas.cleanup();
    await deleteRedisKeys(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it("the worker's /metrics shows the pass and the serve process's last-success gauge is recent", async () => {
    const deadline = Date.now() + 30_000;
    let workerMetrics = '';
    while (Date.now() < deadline) {
      workerMetrics = await (await fetch(url(workerApp, '/metrics'))).text();
      if (gauge(workerMetrics, 'meterboard_aggregation_records_processed_total') >= 50) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(gauge(workerMetrics, 'meterboard_aggregation_records_processed_total')).toBe(50);
    expect(gauge(workerMetrics, 'meterboard_aggregation_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(Date.now() / 1000 - gauge(workerMetrics, 'meterboard_aggregation_last_success_timestamp_seconds')).toBeLessThan(30);
    expect((await fetch(url(workerApp, '/health'))).status).toBe(200);

    const serveMetrics = await (await fetch(url(serveApp, '/metrics'))).text();
    // The serve process ran no pass itself…
    expect(gauge(serveMetrics, 'meterboard_aggregation_duration_seconds_count')).toBe(0);
    // …and still reports the worker's recent success, read from the database.
    expect(Date.now() / 1000 - gauge(serveMetrics, 'meterboard_aggregation_last_success_timestamp_seconds')).toBeLessThan(30);
    expect(serveMetrics).not.toContain(org.id);
  });
});

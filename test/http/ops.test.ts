import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPromTelemetry } from '../../src/adapters/telemetry/prom-telemetry.ts';
import { DomainError } from '../../src/domain/errors.ts';
import type { DomainErrorCode } from '../../src/domain/errors.ts';
import { createHttpTestContext } from '../support/http-context.ts';
import type { HttpTestContext } from '../support/http-context.ts';

/** /health, /ready, /metrics, the OpenAPI document, and the error shape of failures. */

// CI installs promtool (.ci/run) and must run this check; elsewhere it runs when promtool is present.
const hasPromtool = spawnSync('promtool', ['--version']).status === 0 || process.env['CI'] === 'true';
const telemetry = createPromTelemetry();
const SECRET = 'connection string postgres://user:hunter2@db';

describe('operations endpoints and error mapping', () => {
  let t: HttpTestContext;

  beforeAll(async () => {
    t = await createHttpTestContext('sqlite', {
      server: {
        metrics: telemetry,
        routes: [
          (app) => {
            app.get('/test/crash', async () => {
              throw new Error(SECRET);
            });
            app.get<{ Params: { code: DomainErrorCode } }>('/test/domain/:code', async (request) => {
              throw new DomainError(request.params.code, `failed with ${request.params.code}`);
            });
          },
        ],
      },
    });
  });
  afterAll(() => t.close());

  it('answers /health without a key', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('reports the cache as degraded on /ready without failing readiness', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/ready' })).json()).toEqual({ status: 'ok', checks: { database: 'ok', cache: 'ok' } });
    t.cache.healthy = false;
    const degraded = await t.app.inject({ method: 'GET', url: '/ready' });
    t.cache.healthy = true;
    expect(degraded.statusCode).toBe(200);
    expect(degraded.json()).toEqual({ status: 'degraded', checks: { database: 'ok', cache: 'degraded' } });
  });

  it('maps every domain error code to its status with the error shape', async () => {
    const expected: Record<DomainErrorCode, number> = {
      validation: 400,
      unauthorized: 401,
      forbidden: 403,
      not_found: 404,
      conflict: 409,
      payload_too_large: 413,
      rate_limited: 429,
      unavailable: 503,
    };
    for (const [code, status] of Object.entries(expected)) {
      const response = await t.app.inject({ method: 'GET', url: `/test/domain/${code}` });
      expect(response.statusCode, code).toBe(status);
      expect(response.json()).toEqual({ error: { code, message: `failed with ${code}` } });
    }
  });

  it('never leaks a stack trace or internal message in a 5xx', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/test/crash' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: { code: 'internal', message: 'internal server error' } });
    expect(response.body).not.toContain('hunter2');
    expect(response.body).not.toMatch(/at .*\.ts:\d+/);
  });

  it('answers unknown routes with a 404 in the error shape', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /api/v1/nothing-here' } });
  });

  it('serves the OpenAPI document listing every route, and the UI', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/api/docs/json' })).json() as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(document.openapi).toMatch(/^3\./);
    expect(document.components.securitySchemes).toHaveProperty('bearerAuth');
    const routes = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /health',
        'GET /ready',
        'GET /metrics',
        'POST /api/v1/events',
        'POST /api/v1/orgs',
        'GET /api/v1/orgs',
        'GET /api/v1/orgs/{org}',
        'PATCH /api/v1/orgs/{org}',
        'POST /api/v1/orgs/{org}/keys',
        'GET /api/v1/orgs/{org}/keys',
        'DELETE /api/v1/orgs/{org}/keys/{id}',
      ]),
    );
    const ingest = document.paths['/api/v1/events']!['post']!;
    expect(ingest.security).toEqual([{ bearerAuth: [] }]);
    expect(ingest.requestBody).toBeDefined();
    expect(Object.keys(ingest.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '413']));

    const ui = await t.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });

  it('exposes ingest and aggregation series plus process metrics on /metrics', async () => {
    telemetry.eventsIngested('some-org', 5, 2, 1);
    telemetry.aggregationRun({ ok: true, durationSeconds: 0.2, records: 1_000, finishedAt: Date.UTC(2030, 0, 1) });
    telemetry.aggregationRun({ ok: false, durationSeconds: 0.1, records: 0, finishedAt: Date.UTC(2030, 0, 2) });
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;
    expect(text).toContain('meterboard_events_ingested_total{result="accepted"} 5');
    expect(text).toContain('meterboard_events_ingested_total{result="duplicate"} 2');
    expect(text).toContain('meterboard_events_ingested_total{result="rejected"} 1');
    expect(text).toContain('meterboard_aggregation_duration_seconds_count 2');
    expect(text).toContain('meterboard_aggregation_records_processed_total 1000');
    expect(text).toContain(`meterboard_aggregation_last_success_timestamp_seconds ${Date.UTC(2030, 0, 1) / 1000}`);
    expect(text).toContain('meterboard_aggregation_errors_total 1');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).not.toContain('some-org');
  });

  it.skipIf(!hasPromtool)('passes promtool check metrics', async () => {
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });

  it('answers /ready with 503 once the database is gone', async () => {
    await t.ctx.storage.close();
    const response = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'unavailable', checks: { database: 'down', cache: 'ok' } });
    await t.reopen();
    expect((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });
});

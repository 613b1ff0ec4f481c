import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, createHttpTestContext, type HttpTestContext } from '../support/http-context.ts';
import { ENGINES } from '../support/engines.ts';
import { createThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

/**
 * A database that stops answering is an outage, not a bug: the API says 503 with the usual
 * error shape, /ready reports it, /health stays up, and the process keeps serving.
 */
const engines = ENGINES;

describe.each(engines)('database outage on %s', (engine) => {
  let t: HttpTestContext;

  beforeAll(async () => {
    t = await createHttpTestContext(engine);
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/orgs', headers: adminHeaders, payload: { id: 'outage-org', name: 'Outage', timezone: 'UTC' } });
    expect(created.statusCode).toBe(201);
    // Simulate the outage: every connection of the storage is gone from now on.
    await t.ctx.storage.close();
  });
  afterAll(() => t.close());

  it('answers 503 with the error shape, never a stack trace', async () => {
    for (const url of ['/api/v1/orgs', '/api/v1/orgs/outage-org', '/api/v1/orgs/outage-org/keys']) {
      const response = await t.app.inject({ method: 'GET', url, headers: adminHeaders });
      expect(response.statusCode, url).toBe(503);
      const body = response.json() as { error: { code: string; message: string } };
      expect(body.error.code).toBe('unavailable');
      expect(response.body).not.toMatch(/at .*\.ts:\d+/);
    }
  });

  it('answers 503 to ingest: nothing is accepted that could not be stored', async () => {
    const events = [{ id: 'e1', type: 'custom', timestamp: new Date(t.clock.now() - 60_000).toISOString() }];
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/events?org=outage-org', headers: adminHeaders, payload: events });
    expect(response.statusCode).toBe(503);
  });

  it('reports the database down on /ready while /health stays up', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.body).toContain('database');
    expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});

describe('database outage on a stopped PostgreSQL server', () => {
  let cluster: ThrowawayPostgres;
  let t: HttpTestContext;

  beforeAll(async () => {
    cluster = await createThrowawayPostgres();
    t = await createHttpTestContext('postgres', { databaseUrl: cluster.url });
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/orgs', headers: adminHeaders, payload: { id: 'outage-org', name: 'Outage', timezone: 'UTC' } });
    expect(created.statusCode).toBe(201);
    // A real outage: the server goes away under the open pool.
    await cluster.stop('immediate');
  }, 120_000);
  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await cluster?.destroy();
  });

  it('answers 503 with the error shape to reads and ingest, /ready says so, /health stays up', async () => {
    for (const url of ['/api/v1/orgs', '/api/v1/orgs/outage-org', '/api/v1/orgs/outage-org/keys']) {
      const response = await t.app.inject({ method: 'GET', url, headers: adminHeaders });
      expect(response.statusCode, url).toBe(503);
      expect((response.json() as { error: { code: string } }).error.code).toBe('unavailable');
      expect(response.body).not.toMatch(/ECONNREFUSED|57P0|at .*\.ts:\d+/);
    }
    const events = [{ id: 'e1', type: 'custom', timestamp: new Date(t.clock.now() - 60_000).toISOString() }];
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/events?org=outage-org', headers: adminHeaders, payload: events })).statusCode).toBe(503);
    const ready = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.body).toContain('database');
    expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('serves again once the server is back, without a restart of the process', async () => {
    await cluster.start();
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/outage-org', headers: adminHeaders });
    expect(response.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  }, 60_000);
});

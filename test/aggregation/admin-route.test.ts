import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createEmbeddedScheduler } from '../../src/adapters/scheduler/embedded-scheduler.ts';
import { createKey } from '../../src/app/manage-orgs.ts';
import { registerAdminRoutes } from '../../src/http/admin.routes.ts';
import { buildServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import type { Scheduler } from '../../src/ports/scheduler.ts';
import { bindJobs } from '../../src/worker/bind-jobs.ts';
import { makeOrg } from '../factories/org.ts';
import { createAggregationContext, ENGINES, ingestAll, readTier, type AggregationTestContext } from './support.ts';

/** POST /api/v1/admin/aggregate: admin keys only; runs one pass and answers {buckets, events, duration_ms}. */

const NOW = Date.UTC(2026, 4, 4, 9, 30, 0);
const ADMIN_KEY = 'aggregation-admin-key-0123456789';

describe.each(ENGINES)('POST /api/v1/admin/aggregate on %s', (engine) => {
  let t: AggregationTestContext;
  let direct: FastifyInstance;
  let viaScheduler: FastifyInstance;
  let scheduler: Scheduler;
  const org = makeOrg({ timezone: 'Europe/Zurich' });
  let readKey = '';

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW, env: { ADMIN_KEY, AGGREGATE_EVERY: '1h' } });
    await t.ctx.storage.createOrg(org, NOW);
    readKey = (await createKey(t.ctx, { orgId: org.id, scope: 'read' })).secret;
    scheduler = createEmbeddedScheduler({ log: silentLogger });
    await scheduler.start(bindJobs(t.ctx));
    direct = buildServer(t.ctx, { logger: false, checkResponses: true, routes: [(app, ctx) => registerAdminRoutes(app, ctx)] });
    viaScheduler = buildServer(t.ctx, { logger: false, checkResponses: true, routes: [(app, ctx) => registerAdminRoutes(app, ctx, { aggregateNow: () => scheduler.runNow('aggregate') })] });
    await Promise.all([direct.ready(), viaScheduler.ready()]);
  });
  afterAll(async () => {
    await scheduler.stop();
    await direct.close();
    await viaScheduler.close();
    await t.close();
  });

  const post = (app: FastifyInstance, key?: string) =>
    app.inject({ method: 'POST', url: '/api/v1/admin/aggregate', headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('refuses callers without an admin key', async () => {
    expect((await post(direct)).statusCode).toBe(401);
    const forbidden = await post(direct, readKey);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('runs a pass in-process and answers what it did', async () => {
    await ingestAll(t.ctx, org.id, [
      { id: 'a', type: 'hitl_review', timestamp: '2026-05-04T08:10:00Z', state: 'created' },
      { id: 'b', type: 'hitl_review', timestamp: '2026-05-04T00:10:00+02:00', state: 'created' },
    ]);
    const response = await post(direct, ADMIN_KEY);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    // Two hours of one local day (2026-05-04; in UTC the first is still May 3), one week, one month.
    expect(body).toMatchObject({ buckets: 2 + 1 + 1 + 1, events: 2, orgs: 1, skipped: [] });
    expect(body.duration_ms).toEqual(expect.any(Number));
    expect((await readTier(t.ctx.storage, org.id, 'day')).map((row) => row.count)).toEqual([2]);
  });

  it('runs the pass through the scheduler when one is given', async () => {
    await ingestAll(t.ctx, org.id, [{ id: 'c', type: 'hitl_review', timestamp: '2026-05-04T08:20:00Z', state: 'created' }]);
    const response = await post(viaScheduler, ADMIN_KEY);
    expect(response.statusCode).toBe(200);
    // Event "a" of that hour is already in its stored rows: only "c" is read (ADR 0019).
    expect(response.json()).toMatchObject({ buckets: 4, events: 1 });
    const second = await post(viaScheduler, ADMIN_KEY);
    expect(second.json()).toMatchObject({ buckets: 0, events: 0 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDrilldownRoutes, eventsResponse } from '../../src/drilldown/routes.ts';
import { meResponse, registerMeRoutes } from '../../src/http/me.routes.ts';
import { buildServer } from '../../src/http/server.ts';
import type { FastifyInstance } from 'fastify';
import { uniqueId } from '../factories/index.ts';
import { generateDataset } from '../query/dataset.ts';
import { oracleEvents, type OracleEvent } from '../query/oracle.ts';
import { adminHeaders, bearer, createOrg, createQueryTestContext, ENGINES, ingest, query, type QueryTestContext, type TestOrg } from '../query/support.ts';

/** Drill-down: every event of a filter, newest first, exactly once across pages; and /api/v1/me. */

const START = '2026-10-23T00:00:00Z';
const END = '2026-10-26T00:00:00Z';

describe.each(ENGINES)('events drill-down and /api/v1/me (%s)', (engine) => {
  let t: QueryTestContext;
  let app: FastifyInstance;
  let org: TestOrg;
  let events: OracleEvent[];

  beforeAll(async () => {
    t = await createQueryTestContext(engine);
    org = await createOrg(t.app, { id: uniqueId('drill'), timezone: 'Europe/Zurich' });
    const sent = generateDataset(41, org.id);
    await ingest(t.app, org, sent);
    events = oracleEvents(sent);
    app = buildServer(t.ctx, { logger: false, routes: [registerDrilldownRoutes, registerMeRoutes] });
    await app.ready();
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await t?.close();
  });

  async function allPages(params: Record<string, string>, limit: number): Promise<Array<{ id: string; timestamp: string }>> {
    const seen: Array<{ id: string; timestamp: string }> = [];
    let cursor: string | null = null;
    for (let page = 0; page < 500; page += 1) {
      const url = `/api/v1/orgs/${org.id}/events?${query({ ...params, limit, ...(cursor ? { cursor } : {}) })}`;
      const response = await app.inject({ method: 'GET', url, headers: bearer(org.keys.read) });
      expect(response.statusCode, response.body).toBe(200);
      const body = eventsResponse.parse(response.json());
      expect(body.events.length).toBeLessThanOrEqual(limit);
      seen.push(...body.events);
      cursor = body.next_cursor;
      if (cursor === null) return seen;
    }
    throw new Error('pagination did not end');
  }

  const newestFirst = (list: OracleEvent[]) => [...list].sort((a, b) => b.ts - a.ts || (a.id < b.id ? 1 : -1)).map((e) => e.id);
  const inRange = (e: OracleEvent) => e.ts >= Date.parse(START) && e.ts < Date.parse(END);

  it('pages through the events of a type newest first, each exactly once', async () => {
    const got = await allPages({ start: START, end: END, type: 'llm_call' }, 7);
    const expected = newestFirst(events.filter((e) => e.type === 'llm_call' && inRange(e)));
    expect(expected.length).toBeGreaterThan(14);
    expect(got.map((e) => e.id)).toEqual(expected);
  });

  it('filters like the metrics: the events feeding a metric, a project, an attribute', async () => {
    const llmCalls = await allPages({ start: START, end: END, metric: 'llm_calls' }, 50);
    expect(llmCalls.map((e) => e.id)).toEqual(newestFirst(events.filter((e) => e.type === 'llm_call' && e.attrs['usage_type'] === 'llm' && inRange(e))));
    const alpha = await allPages({ start: START, end: END, project: 'alpha', type: 'api_request' }, 50);
    expect(alpha.map((e) => e.id)).toEqual(newestFirst(events.filter((e) => e.type === 'api_request' && e.project === 'alpha' && inRange(e))));
    const failing = await allPages({ start: START, end: END, metric: 'failed_pages', nonzero: 'true' }, 50);
    const failedInRange = events.filter((e) => e.type === 'page_usage' && typeof e.attrs['failed_pages'] === 'number' && e.attrs['failed_pages'] !== 0 && inRange(e));
    expect(failedInRange.length).toBeGreaterThan(0);
    expect(failing.map((e) => e.id)).toEqual(newestFirst(failedInRange));
    const errors = await allPages({ start: START, end: END, type: 'api_request', 'filter.status_code': '500' }, 50);
    expect(errors.map((e) => e.id)).toEqual(newestFirst(events.filter((e) => e.type === 'api_request' && e.attrs['status_code'] === 500 && inRange(e))));
  });

  it('rejects a forged cursor and an unknown metric, naming the parameter', async () => {
    for (const [param, value] of [['cursor', 'bm90LWEtY3Vyc29y'], ['metric', 'no_such_metric'], ['nonzero', 'true']] as const) {
      const response = await app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/events?${param}=${value}`, headers: bearer(org.keys.read) });
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain(param);
    }
  });

  it('/api/v1/me names the organization of a read key, none for an admin key, and 401 without a key', async () => {
    const mine = meResponse.parse((await app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(org.keys.read) })).json());
    expect(mine).toMatchObject({ scope: 'read', organization: { id: org.id, timezone: 'Europe/Zurich' } });
    const admin = meResponse.parse((await app.inject({ method: 'GET', url: '/api/v1/me', headers: adminHeaders })).json());
    expect(admin).toMatchObject({ scope: 'admin', organization: null });
    expect((await app.inject({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/events`, headers: bearer(org.keys.ingest) })).statusCode).toBe(403);
  });
});

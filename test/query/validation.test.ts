import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../factories/index.ts';
import { createOrg, createQueryTestContext, getJson, query, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * Parameter validation: every rejection is a 400 in the error shape whose message names the
 * parameter (and, for metrics, lists the valid names). Validation does not depend on the
 * storage engine, so it runs on the embedded one.
 */

interface ErrorBody {
  error: { code: string; message: string };
}

describe('query parameter validation', () => {
  let t: QueryTestContext;
  let org: TestOrg;
  beforeAll(async () => {
    t = await createQueryTestContext('sqlite');
    org = await createOrg(t.app, { id: uniqueId('valid'), timezone: 'Europe/Zurich' });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const cases: Array<{ name: string; path: string; params: Record<string, string | number>; names: string[] }> = [
    { name: 'unknown metric lists the valid ones', path: 'summary', params: { metric: 'requests,no_such_metric' }, names: ['metric', 'no_such_metric', 'requests', 'llm_calls', 'request_latency_ms'] },
    { name: 'unknown metric on series', path: 'series', params: { metric: 'nope' }, names: ['metric', 'pages_processed'] },
    { name: 'start after end', path: 'summary', params: { start: '2026-10-02', end: '2026-10-01' }, names: ['start'] },
    { name: 'range over three years', path: 'summary', params: { start: '2022-01-01', end: '2026-01-02' }, names: ['end'] },
    { name: 'unparseable start', path: 'series', params: { start: 'yesterday' }, names: ['start'] },
    { name: 'impossible calendar date', path: 'summary', params: { end: '2026-02-30' }, names: ['end'] },
    { name: 'bad source enum', path: 'summary', params: { source: 'weekly' }, names: ['source'] },
    { name: 'bad granularity enum', path: 'series', params: { granularity: 'year' }, names: ['granularity'] },
    { name: 'bad fill enum', path: 'series', params: { fill: 'some' }, names: ['fill'] },
    { name: 'unknown time zone', path: 'summary', params: { tz: 'Mars/Olympus_Mons' }, names: ['tz'] },
    { name: 'too many hourly points', path: 'series', params: { start: '2024-01-01', end: '2026-01-01', granularity: 'hour' }, names: ['granularity'] },
    { name: 'dimension the metric lacks', path: 'series', params: { metric: 'pages_processed', dimension: 'model' }, names: ['dimension'] },
    { name: 'breakdown without a dimension', path: 'breakdown', params: { metric: 'requests' }, names: ['dimension'] },
    { name: 'breakdown of two metrics', path: 'breakdown', params: { metric: 'requests,llm_calls', dimension: 'model' }, names: ['metric'] },
    { name: 'breakdown limit above the bound', path: 'breakdown', params: { metric: 'requests', dimension: 'model', limit: 100000 }, names: ['limit'] },
    { name: 'breakdown limit of zero', path: 'breakdown', params: { metric: 'requests', dimension: 'model', limit: 0 }, names: ['limit'] },
    { name: 'aggregates without a metric', path: 'aggregates', params: {}, names: ['metric'] },
    { name: 'bad dashboard range', path: 'dashboard', params: { range: '2w' }, names: ['range'] },
    { name: 'custom dashboard without start', path: 'dashboard', params: { range: 'custom', end: '2026-10-10' }, names: ['start'] },
    { name: 'bad compare date', path: 'compare', params: { date: '2026-13-01' }, names: ['date'] },
    { name: 'bad deployment_type', path: 'workflow-usage', params: { deployment_type: 'CRON' }, names: ['deployment_type'] },
    { name: 'recent-activity limit above 50', path: 'recent-activity', params: { limit: 51 }, names: ['limit'] },
    { name: 'bad refresh flag', path: 'summary', params: { refresh: 'maybe' }, names: ['refresh'] },
    { name: 'NUL in project', path: 'summary', params: { project: 'a\u0000b' }, names: ['project'] },
    { name: 'NUL in tag', path: 'dashboard', params: { range: '7d', tag: '\u0000' }, names: ['tag'] },
  ];

  it.each(cases)('$name → 400 naming it', async ({ path, params, names }) => {
    const answer = await getJson<ErrorBody>(t.app, `/api/v1/orgs/${org.id}/${path}?${query(params)}`, org.keys.read);
    expect(answer.status, answer.raw).toBe(400);
    expect(answer.body.error.code).toBe('validation');
    for (const name of names) expect(answer.body.error.message).toContain(name);
  });

  it('Unstract aliases: an inclusive end_date before start_date is reversed (400), the same day is one day (200)', async () => {
    const alias = `/api/v1/unstract/${org.id}/metrics/summary/`;
    const reversed = await getJson<ErrorBody>(t.app, `${alias}?${query({ start_date: '2026-10-26', end_date: '2026-10-25' })}`, org.keys.read);
    expect(reversed.status, reversed.raw).toBe(400);
    expect(reversed.body.error.message).toContain('start_date');
    const sameDay = await getJson(t.app, `${alias}?${query({ start_date: '2026-10-25', end_date: '2026-10-25' })}`, org.keys.read);
    expect(sameDay.status, sameDay.raw).toBe(200);
  });

  it('accepts the bounds themselves', async () => {
    const threeYears = await getJson(t.app, `/api/v1/orgs/${org.id}/summary?${query({ start: '2023-01-01', end: '2026-01-01' })}`, org.keys.read);
    expect(threeYears.status, threeYears.raw).toBe(200);
    const empty = await getJson(t.app, `/api/v1/orgs/${org.id}/summary?${query({ start: '2026-01-01T10:00:00Z', end: '2026-01-01T10:00:00Z' })}`, org.keys.read);
    expect(empty.status).toBe(200);
    const fifty = await getJson(t.app, `/api/v1/orgs/${org.id}/recent-activity?limit=50`, org.keys.read);
    expect(fifty.status).toBe(200);
  });

  it('documents every query endpoint in OpenAPI with its parameters and response schema', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(response.statusCode).toBe(200);
    const paths = response.json().paths as Record<string, { get?: { parameters?: Array<{ name: string; in: string }>; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> } }>;
    const expected: Record<string, string[]> = {
      '/api/v1/orgs/{org}/metrics': [],
      '/api/v1/orgs/{org}/summary': ['start', 'end', 'tz', 'metric', 'source', 'project', 'tag'],
      '/api/v1/orgs/{org}/series': ['granularity', 'dimension', 'fill', 'metric', 'source'],
      '/api/v1/orgs/{org}/overview': ['start', 'end'],
      '/api/v1/orgs/{org}/live-summary': ['start', 'end', 'metric'],
      '/api/v1/orgs/{org}/live-series': ['granularity', 'metric'],
      '/api/v1/orgs/{org}/breakdown': ['metric', 'dimension', 'limit'],
      '/api/v1/orgs/{org}/aggregates': ['metric', 'granularity', 'dimension'],
      '/api/v1/orgs/{org}/dashboard': ['range', 'start', 'end'],
      '/api/v1/orgs/{org}/compare': ['date'],
      '/api/v1/orgs/{org}/recent-activity': ['limit'],
      '/api/v1/orgs/{org}/workflow-usage': ['start', 'end', 'deployment_type'],
      '/api/v1/orgs/{org}/export.csv': ['metric', 'granularity', 'start', 'end'],
      '/api/v1/unstract/{org}/metrics/overview/': ['start_date', 'end_date'],
      '/api/v1/unstract/{org}/metrics/summary/': ['start_date', 'end_date', 'metric_name', 'project', 'source'],
      '/api/v1/unstract/{org}/metrics/series/': ['start_date', 'end_date', 'granularity', 'metric_name', 'project', 'source'],
      '/api/v1/unstract/{org}/metrics/live-summary/': ['start_date', 'end_date'],
      '/api/v1/unstract/{org}/metrics/live-series/': ['start_date', 'end_date', 'granularity'],
      '/api/v1/unstract/{org}/metrics/recent-activity/': ['limit'],
      '/api/v1/unstract/{org}/metrics/workflow-token-usage/': ['start_date', 'end_date', 'deployment_type'],
      '/api/v1/unstract/{org}/metrics/health/': [],
    };
    for (const [path, params] of Object.entries(expected)) {
      const operation = paths[path]?.get;
      expect(operation, path).toBeDefined();
      const documented = (operation!.parameters ?? []).map((p) => p.name);
      expect(documented, path).toEqual(expect.arrayContaining(['org', ...params]));
      expect(Object.values(operation!.responses!['200']!.content ?? {})[0]?.schema, `${path} 200 schema`).toBeDefined();
    }
    expect(Object.keys(paths).filter((path) => path.startsWith('/api/v1/unstract/') && !path.endsWith('/'))).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDrilldownRoutes } from '../../src/drilldown/routes.ts';
import { bearer } from '../support/http-context.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, QUERY_NOW, type QueryTestContext } from './support.ts';

/**
 * Issue 14 point 6: numbers in API answers carry no binary float noise — a sum of decimal
 * costs is exactly the decimal sum of what was sent (the oracle adds them as integers of
 * 1e-8 dollars) on every endpoint that reports it, and per-item costs are rounded to 4
 * decimals half to even (the original module's rule), checked against an integer oracle too —
 * and an event of an unknown type is stored with a `warnings` entry naming it.
 */

const DAY = 86_400_000;
const SCALE = 100_000_000n;
/** Decimals a double cannot hold exactly; their float sums drift (0.1 + 0.2 = 0.30000000000000004). */
const COSTS = ['0.1', '0.2', '0.35', '0.000123', '1.10000001', '0.07', '0.3333', '2.675', '0.015', '0.00025'];

function toUnits(decimal: string): bigint {
  const [whole, fraction = ''] = decimal.split('.');
  return BigInt(whole!) * SCALE + BigInt(fraction.padEnd(8, '0'));
}

/** The exact decimal value of a sum of 1e-8 units, as the number JSON should carry. */
function fromUnits(units: bigint): number {
  const whole = units / SCALE;
  const fraction = (units % SCALE).toString().padStart(8, '0');
  return Number(`${whole}.${fraction}`);
}

/** Round half to even at 4 decimals, on integers (1e-8 units → 1e-4 units). */
function roundHalfEven4(units: bigint): number {
  const step = 10_000n;
  const quotient = units / step;
  const remainder = units % step;
  const half = step / 2n;
  const rounded = remainder > half || (remainder === half && quotient % 2n === 1n) ? quotient + 1n : quotient;
  return fromUnits(rounded * step);
}

/** The tell-tale tails of float noise: a long run of 0s or 9s then one stray digit. */
const NOISE = /\d\.\d*?(?:0{7,}|9{7,})\d\b/;

describe.each(ENGINES)('API numbers on %s', (engine) => {
  let t: QueryTestContext;
  let keys: { ingest: string; read: string; admin: string };
  const orgId = `numbers-${engine}`;
  const dayOne = Math.floor(QUERY_NOW / DAY) * DAY - 2 * DAY;
  const llmCosts: { cost: string; day: number; file: string }[] = [];
  const requestCosts: string[] = [];

  const get = async (url: string) => {
    const response = await t.app.inject({ method: 'GET', url, headers: bearer(keys.read) });
    expect(response.statusCode, response.body).toBe(200);
    return { text: response.body, json: response.json() as Record<string, unknown> };
  };

  beforeAll(async () => {
    t = await createQueryTestContext(engine, { routes: [registerDrilldownRoutes] });
    keys = (await createOrg(t.app, { id: orgId, timezone: 'UTC' })).keys;
    const events: Record<string, unknown>[] = [];
    for (let i = 0; i < 40; i += 1) {
      const cost = COSTS[i % COSTS.length]!;
      const day = i % 2;
      const file = `file-${i % 4}`;
      llmCosts.push({ cost, day, file });
      events.push({
        id: `llm-${i}`, type: 'llm_call', timestamp: new Date(dayOne + day * DAY + 3_600_000 + i * 60_000).toISOString(),
        usage_type: 'llm', model: 'gpt-4o', cost_usd: Number(cost), total_tokens: 100 + i, workflow_id: 'wf-1', workflow_name: 'Invoices',
        execution_id: `exec-${day}`, file_execution_id: `${file}-${day}`,
      });
    }
    // One file execution per file and day: recent activity shows each with the cost of its calls.
    for (const day of [0, 1]) {
      for (let f = 0; f < 4; f += 1) {
        events.push({ id: `fx-file-${f}-${day}`, type: 'file_execution', timestamp: new Date(dayOne + day * DAY + 7_200_000 + f * 1000).toISOString(), status: 'COMPLETED', execution_id: `exec-${day}`, file_execution_id: `file-${f}-${day}`, file_name: `file-${f}.pdf` });
      }
    }
    for (let i = 0; i < 25; i += 1) {
      const cost = COSTS[(i * 3) % COSTS.length]!;
      requestCosts.push(cost);
      events.push({ id: `req-${i}`, type: 'api_request', timestamp: new Date(dayOne + DAY + 7_200_000 + i * 60_000).toISOString(), status_code: 200, latency_ms: 10.1 * (i + 1), cost_usd: Number(cost), endpoint: '/x' });
    }
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/events', headers: { ...bearer(keys.ingest), 'content-type': 'application/json' }, payload: JSON.stringify(events) });
    expect(response.json()).toMatchObject({ accepted: events.length, rejected: [] });
    await aggregate(t.ctx);
  });
  afterAll(() => t?.close());

  const start = () => new Date(dayOne).toISOString();
  const end = () => new Date(dayOne + 2 * DAY).toISOString();
  const llmTotal = () => fromUnits(llmCosts.reduce((sum, c) => sum + toUnits(c.cost), 0n));
  const llmOnDay = (day: number) => fromUnits(llmCosts.filter((c) => c.day === day).reduce((sum, c) => sum + toUnits(c.cost), 0n));
  const requestTotal = () => fromUnits(requestCosts.reduce((sum, c) => sum + toUnits(c), 0n));

  it('the oracle itself sees the noise a float sum makes (so the comparison can fail)', () => {
    const floatSums = [0, 1].map((day) => llmCosts.filter((c) => c.day === day).reduce((sum, c) => sum + Number(c.cost), 0));
    const floatRequests = requestCosts.reduce((sum, c) => sum + Number(c), 0);
    expect([...floatSums, floatRequests]).not.toEqual([llmOnDay(0), llmOnDay(1), requestTotal()]);
  });

  it('summary: cost sums exactly the decimals sent', async () => {
    const { text, json } = await get(`/api/v1/orgs/${orgId}/summary?start=${start()}&end=${end()}&tz=UTC`);
    const rows = new Map((json['summary'] as { metric_name: string; total_value: number }[]).map((row) => [row.metric_name, row.total_value]));
    expect(rows.get('llm_usage')).toBe(llmTotal());
    expect(rows.get('request_cost_usd')).toBe(requestTotal());
    expect(text).not.toMatch(NOISE);
  });

  it('series: each day is the exact decimal sum of its costs', async () => {
    const { text, json } = await get(`/api/v1/orgs/${orgId}/series?start=${start()}&end=${end()}&tz=UTC&granularity=day&metric=llm_usage`);
    const points = (json['series'] as { data: { timestamp: string; value: number }[] }[])[0]!.data;
    expect(points.map((p) => p.value)).toEqual([llmOnDay(0), llmOnDay(1)]);
    expect(text).not.toMatch(NOISE);
  });

  it('compare and the request dashboard: the same exact sums', async () => {
    const day = new Date(dayOne + DAY).toISOString().slice(0, 10);
    const compare = await get(`/api/v1/orgs/${orgId}/compare?date=${day}&tz=UTC`);
    const current = new Map((compare.json['metrics'] as { metric_name: string; current: number }[]).map((m) => [m.metric_name, m.current]));
    expect(current.get('llm_usage')).toBe(llmOnDay(1));
    expect(current.get('request_cost_usd')).toBe(requestTotal());
    expect(compare.text).not.toMatch(NOISE);
    const dashboard = await get(`/api/v1/orgs/${orgId}/dashboard?range=custom&start=${start()}&end=${end()}&tz=UTC`);
    const costs = (dashboard.json['costs'] as { value: number[] }).value;
    expect(fromUnits(costs.reduce((sum, v) => sum + toUnits(String(v)), 0n))).toBe(requestTotal());
    expect(costs.every((v) => !NOISE.test(String(v)))).toBe(true);
    expect(dashboard.text).not.toMatch(NOISE);
  });

  it('workflow usage: the workflow cost is the exact sum', async () => {
    const { text, json } = await get(`/api/v1/orgs/${orgId}/workflow-usage?start=${start()}&end=${end()}&tz=UTC`);
    const rows = json['deployments'] as { deployment_id: string; total_cost: number }[];
    expect(rows.find((row) => row.deployment_id === 'wf-1')?.total_cost).toBe(llmTotal());
    expect(text).not.toMatch(NOISE);
  });

  it('hundreds of costs in one hour: every endpoint answers the exact decimal total', async () => {
    // 300 costs of up to 0.03 USD in 1e-8 units from a fixed LCG: a plain float sum of these
    // shows noise even after the 15-digit filter (4.44472282999999 for 4.44472283).
    const units: bigint[] = [];
    let state = 191;
    for (let i = 0; i < 300; i += 1) {
      state = (state * 1103515245 + 12345) % 2147483648;
      units.push(BigInt(Math.floor((state / 2147483648) * 3_000_000) + 1));
    }
    const exact = fromUnits(units.reduce((sum, u) => sum + u, 0n));
    const floatSum = units.reduce((sum, u) => sum + Number(u) / 1e8, 0);
    expect(Number(floatSum.toPrecision(15))).not.toBe(exact);
    const many = await createOrg(t.app, { id: `numbers-many-${engine}`, timezone: 'UTC' });
    const events = units.map((u, i) => ({
      id: `many-${i}`, type: 'llm_call', timestamp: new Date(dayOne + 3_600_000 + i * 1000).toISOString(),
      usage_type: 'llm', model: 'gpt-4o', cost_usd: Number(u) / 1e8, total_tokens: 10, workflow_id: 'wf-many', workflow_name: 'Many',
    }));
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/events', headers: { ...bearer(many.keys.ingest), 'content-type': 'application/json' }, payload: JSON.stringify(events) });
    expect(response.json()).toMatchObject({ accepted: events.length, rejected: [] });
    const usage = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${many.id}/workflow-usage?start=${start()}&end=${end()}&tz=UTC`, headers: bearer(many.keys.read) });
    expect(usage.statusCode, usage.body).toBe(200);
    expect((usage.json() as { deployments: { total_cost: number }[] }).deployments.map((row) => row.total_cost)).toEqual([exact]);
    expect(usage.body).not.toMatch(NOISE);
    await aggregate(t.ctx);
    const day = new Date(dayOne).toISOString().slice(0, 10);
    const range = `start=${start()}&end=${new Date(dayOne + DAY).toISOString()}&tz=UTC&metric=llm_usage`;
    const checks: Array<[string, (body: Record<string, unknown>) => number | undefined]> = [
      [`summary?${range}`, (body) => (body['summary'] as { total_value: number }[])[0]?.total_value],
      [`live-summary?${range}`, (body) => (body['summary'] as { total_value: number }[])[0]?.total_value],
      [`series?${range}&granularity=day`, (body) => (body['series'] as { data: { value: number }[] }[])[0]?.data[0]?.value],
      [`compare?date=${day}&tz=UTC`, (body) => (body['metrics'] as { metric_name: string; current: number }[]).find((m) => m.metric_name === 'llm_usage')?.current],
    ];
    for (const [url, read] of checks) {
      const answer = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${many.id}/${url}`, headers: bearer(many.keys.read) });
      expect(answer.statusCode, answer.body).toBe(200);
      expect(read(answer.json() as Record<string, unknown>), url).toBe(exact);
    }
  });

  it('recent activity: the cost of a file is the exact sum of its calls, rounded half to even at 4 decimals', async () => {
    const { text, json } = await get(`/api/v1/orgs/${orgId}/recent-activity?limit=50&tz=UTC`);
    expect(text).not.toMatch(NOISE);
    const items = json['activity'] as { id: string; cost: number }[];
    const files = items.filter((item) => item.id.startsWith('fx-'));
    expect(files).toHaveLength(8);
    for (const item of files) {
      const [, , f, day] = item.id.split('-');
      const units = llmCosts.filter((c) => c.file === `file-${f}` && c.day === Number(day)).reduce((sum, c) => sum + toUnits(c.cost), 0n);
      expect(item.cost, item.id).toBe(roundHalfEven4(units));
      expect(String(item.cost)).toMatch(/^\d+(\.\d{1,4})?$/);
    }
  });

  it('an unknown event type is stored, with a warning naming the type', async () => {
    const payload = [
      { id: 'known-1', type: 'page_usage', timestamp: new Date(QUERY_NOW - 60_000).toISOString(), pages: 1 },
      { id: 'unknown-1', type: 'invoice_parsed', timestamp: new Date(QUERY_NOW - 60_000).toISOString(), amount: 0.1 },
    ];
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/events', headers: { ...bearer(keys.ingest), 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    const body = response.json() as { accepted: number; warnings?: { index: number; field: string; message: string }[] };
    expect(body.accepted).toBe(2);
    expect(body.warnings).toEqual([{ index: 1, field: 'type', message: expect.stringContaining('invoice_parsed') }]);
    const listed = await get(`/api/v1/orgs/${orgId}/events?type=invoice_parsed&start=${new Date(QUERY_NOW - DAY).toISOString()}&end=${new Date(QUERY_NOW).toISOString()}`);
    expect((listed.json['events'] as { id: string }[]).map((e) => e.id)).toEqual(['unknown-1']);
  });
});

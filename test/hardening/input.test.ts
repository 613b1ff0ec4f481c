import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ATTRIBUTE_NUMBER } from '../../src/domain/event-fields.ts';
import { uniqueId } from '../factories/index.ts';
import { bearer, createHttpTestContext, createOrgWithKeys, TEST_NOW } from '../support/http-context.ts';
import type { Engine, HttpTestContext } from '../support/http-context.ts';
import { probePostgres } from '../support/postgres.ts';
import { aggregate, createOrg, createQueryTestContext, type QueryTestContext } from '../query/support.ts';

/**
 * Findings 1 and 5 of issue 13: what cannot be stored and read back identically (lone UTF-16
 * surrogates, NUL) is refused naming the field, and numbers are bounded so no sum overflows.
 */

const engines: Engine[] = (await probePostgres()) ? ['sqlite', 'postgres'] : ['sqlite'];

interface IngestResponse {
  accepted: number;
  duplicates: number;
  rejected: { index: number; errors: { field: string; message: string }[] }[];
  warnings?: { index: number; field: string; message: string }[];
}

const timestamp = new Date(TEST_NOW - 60_000).toISOString();

describe.each(engines)('hostile strings and numbers at ingest on %s', (engine) => {
  let t: HttpTestContext;
  let orgId: string;
  let keys: { ingest: string; read: string; admin: string };
  const post = async (events: unknown[]): Promise<IngestResponse> => {
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/events', headers: { ...bearer(keys.ingest), 'content-type': 'application/json' }, payload: JSON.stringify(events) });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as IngestResponse;
  };

  beforeAll(async () => {
    t = await createHttpTestContext(engine);
    orgId = uniqueId('input');
    keys = await createOrgWithKeys(t.app, { id: orgId });
  });
  afterAll(() => t.close());

  it('rejects lone surrogates and NUL in ids, project, tag, attribute names and values, naming the field', async () => {
    const base = { type: 'custom_thing', timestamp };
    const cases: { event: Record<string, unknown>; field: string }[] = [
      { event: { ...base, id: '\ud800abc' }, field: 'id' },
      { event: { ...base, id: '\ud801x' }, field: 'id' },
      { event: { ...base, id: 'abc\udc00' }, field: 'id' },
      { event: { ...base, id: uniqueId('p'), project: 'p\ud800' }, field: 'project' },
      { event: { ...base, id: uniqueId('t'), tag: '\udfff' }, field: 'tag' },
      { event: { ...base, id: uniqueId('n'), ['na\u0000me']: 1 }, field: 'na\u0000me' },
      { event: { ...base, id: uniqueId('v'), note: 'a\u0000b' }, field: 'note' },
      { event: { ...base, id: uniqueId('s'), ['k\ud800']: 'x' }, field: 'k\ud800' },
      { event: { ...base, id: uniqueId('w'), note: 'x\udbff' }, field: 'note' },
      { event: { type: 'llm_call', timestamp, id: uniqueId('m'), model: 'gpt\ud800' }, field: 'model' },
    ];
    const first = await post(cases.map((c) => c.event));
    expect(first.accepted).toBe(0);
    expect(first.duplicates).toBe(0);
    expect(first.rejected.map((r) => r.index)).toEqual(cases.map((_, i) => i));
    for (const rejection of first.rejected) {
      const expected = cases[rejection.index]!.field;
      const issue = rejection.errors.find((e) => e.field === expected);
      expect(issue, `index ${rejection.index}: ${JSON.stringify(rejection.errors)}`).toBeDefined();
      expect(issue!.message).toMatch(/surrogate|NUL/);
    }
    expect(await t.ctx.storage.countEvents(orgId)).toBe(0);
  });

  it('stores well-formed astral characters and reads them back identically; a resend is a duplicate', async () => {
    const id = `emoji-😀-${uniqueId('e')}`;
    const event = { id, type: 'custom_thing', timestamp, project: 'proj-🚀', tag: 'т-𝄞', 'név-😀': 'v-😀' };
    expect(await post([event])).toMatchObject({ accepted: 1, duplicates: 0, rejected: [] });
    expect(await post([event])).toMatchObject({ accepted: 0, duplicates: 1, rejected: [] });
    const stored: { id: string; project: string; tag: string; attrs: Record<string, unknown> }[] = [];
    stored.push(...(await t.ctx.storage.scanEvents({ orgId, from: TEST_NOW - 3_600_000, to: TEST_NOW + 1 })));
    const found = stored.find((e) => e.id === id);
    expect(found).toMatchObject({ project: 'proj-🚀', tag: 'т-𝄞' });
    expect(found!.attrs['név-😀']).toBe('v-😀');
  });

  it(`refuses numbers beyond ±${MAX_ATTRIBUTE_NUMBER} so that no sum can overflow`, async () => {
    const cases: { event: Record<string, unknown>; field: string }[] = [
      { event: { type: 'llm_call', timestamp, id: uniqueId('c'), model: 'm', cost_usd: 1e308 }, field: 'cost_usd' },
      { event: { type: 'api_request', timestamp, id: uniqueId('l'), status_code: 200, latency_ms: 1e308 }, field: 'latency_ms' },
      { event: { type: 'gauge', timestamp, id: uniqueId('g'), name: 'users', value: -1e308 }, field: 'value' },
      { event: { type: 'llm_call', timestamp, id: uniqueId('t'), model: 'm', input_tokens: 2 ** 53 - 1 }, field: 'input_tokens' },
      { event: { type: 'custom_thing', timestamp, id: uniqueId('x'), amount: MAX_ATTRIBUTE_NUMBER * 2 }, field: 'amount' },
    ];
    const body = await post([...cases.map((c) => c.event), { type: 'gauge', timestamp, id: uniqueId('ok'), name: 'users', value: -MAX_ATTRIBUTE_NUMBER }]);
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r) => r.index)).toEqual(cases.map((_, i) => i));
    for (const rejection of body.rejected) {
      const issue = rejection.errors.find((e) => e.field === cases[rejection.index]!.field);
      expect(issue, JSON.stringify(rejection.errors)).toBeDefined();
      expect(issue!.message).toContain(String(MAX_ATTRIBUTE_NUMBER));
    }
  });

  it('accepts an unknown event type with a warning naming its index and the type field', async () => {
    const body = await post([
      { type: 'llm_call', timestamp, model: 'm', id: uniqueId('k') },
      { type: 'my_custom_type', timestamp, id: uniqueId('u'), amount: 3 },
    ]);
    expect(body.accepted).toBe(2);
    expect(body.warnings).toHaveLength(1);
    expect(body.warnings![0]).toMatchObject({ index: 1, field: 'type' });
    expect(body.warnings![0]!.message).toMatch(/my_custom_type/);
  });
});

describe.each(engines)('totals stay finite at the number bound on %s', (engine) => {
  let q: QueryTestContext;
  afterAll(() => q?.close());

  it('two events of 1e308 no longer turn a total into null: they are refused and the largest allowed values add up exactly', async () => {
    q = await createQueryTestContext(engine, { now: TEST_NOW });
    const org = await createOrg(q.app, { id: uniqueId('finite'), timezone: 'UTC' });
    const cost = (id: string, value: number) => ({ type: 'api_request', timestamp, id, status_code: 200, cost_usd: value });
    const response = await q.app.inject({
      method: 'POST', url: '/api/v1/events', headers: bearer(org.keys.ingest),
      payload: [cost('huge1', 1e308), cost('huge2', 1e308), cost('max1', MAX_ATTRIBUTE_NUMBER), cost('max2', MAX_ATTRIBUTE_NUMBER)],
    });
    expect(response.json()).toMatchObject({ accepted: 2, rejected: [{ index: 0 }, { index: 1 }] });
    await aggregate(q.ctx);
    const range = `start=${new Date(TEST_NOW - 3_600_000).toISOString()}&end=${new Date(TEST_NOW).toISOString()}&metric=request_cost_usd`;
    for (const path of ['summary', 'live-summary']) {
      const answer = await q.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/${path}?${range}`, headers: bearer(org.keys.read) });
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.json()).toMatchObject({ summary: [{ metric_name: 'request_cost_usd', total_value: 2 * MAX_ATTRIBUTE_NUMBER, total_count: 2 }] });
    }
  }, 60_000);
});

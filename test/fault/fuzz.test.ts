import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../factories/index.ts';
import { createQueryTestContext, type QueryTestContext } from '../query/support.ts';
import { bearer, createOrgWithKeys, TEST_NOW } from '../support/http-context.ts';

/**
 * Property-based fuzzing (fast-check) of the ingest parser and the query parameters through
 * HTTP: never a 5xx; every rejection names its index, a field and a reason; the good rows of a
 * mixed batch are stored (the storage count grows by exactly the accepted number).
 */

const RUNS = 150;

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '\u0000', '\ud800', 'x\udfff', '😀', 'a'.repeat(200)));
const scalar = fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom(1e308, -1e16, 2 ** 53));
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.dictionary(fc.string(), scalar, { maxKeys: 2 }));
const timestamp = fc.oneof(
  fc.integer({ min: TEST_NOW - 10 * 86_400_000, max: TEST_NOW }).map((ms) => new Date(ms).toISOString()),
  text,
  fc.constantFrom('0000-01-01T00:00:00Z', '2030-01-20T12:00:00+14:00', '2030-02-30T00:00:00Z'),
);
const hostileEvent = fc.record(
  {
    id: text,
    type: fc.oneof(fc.constantFrom('llm_call', 'page_usage', 'api_request', 'gauge', 'file_execution', 'hitl_review', 'custom'), text),
    timestamp,
    project: text,
    tag: text,
    model: value,
    pages: value,
    cost_usd: value,
    value: value,
    status_code: value,
    name: value,
    extra: value,
  },
  { requiredKeys: [] },
);
let serial = 0;
const goodEvent = fc.integer({ min: 1, max: 500 }).map((pages) => {
  serial += 1;
  return { id: `good-${serial}-${uniqueId('g')}`, type: 'page_usage', timestamp: new Date(TEST_NOW - serial * 1000).toISOString(), pages };
});

describe('fuzzing ingest and query parameters', () => {
  let t: QueryTestContext;
  let orgId: string;
  let keys: { ingest: string; read: string; admin: string };

  beforeAll(async () => {
    t = await createQueryTestContext('sqlite', { now: TEST_NOW });
    orgId = uniqueId('fuzz');
    keys = await createOrgWithKeys(t.app, { id: orgId });
  });
  afterAll(() => t.close());

  it('ingest: no 5xx, every rejection names index, field and reason, good rows kept', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(hostileEvent, goodEvent, value), { maxLength: 12 }), async (batch) => {
        const before = await t.ctx.storage.countEvents(orgId);
        const response = await t.app.inject({
          method: 'POST', url: '/api/v1/events', headers: { ...bearer(keys.ingest), 'content-type': 'application/json' }, payload: JSON.stringify(batch),
        });
        expect(response.statusCode).toBeLessThan(500);
        expect(response.statusCode).toBe(200);
        const body = response.json() as { accepted: number; duplicates: number; rejected: { index: number; errors: { field: string; message: string }[] }[] };
        for (const rejection of body.rejected) {
          expect(rejection.index).toBeGreaterThanOrEqual(0);
          expect(rejection.index).toBeLessThan(batch.length);
          expect(rejection.errors.length).toBeGreaterThan(0);
          for (const error of rejection.errors) {
            expect(error.field.length).toBeGreaterThan(0);
            expect(error.message.length).toBeGreaterThan(3);
          }
        }
        const rejectedIndexes = new Set(body.rejected.map((r) => r.index));
        for (const [index, event] of batch.entries()) {
          if (typeof event === 'object' && event !== null && String((event as { id?: unknown }).id).startsWith('good-')) expect(rejectedIndexes.has(index)).toBe(false);
        }
        expect(body.accepted + body.duplicates + body.rejected.length).toBe(batch.length);
        expect(await t.ctx.storage.countEvents(orgId)).toBe(before + body.accepted);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('query parameters: no 5xx, and every 400 names the problem', async () => {
    const endpoints = ['summary', 'series', 'live-series', 'breakdown', 'aggregates', 'compare', 'export.csv', 'overview', 'dashboard'];
    const param = fc.oneof(text, fc.integer().map(String), fc.constantFrom('0000-01-01', '9999-12-31', '2030-01-20T00:00:00Z', 'hour', 'day', 'week', 'month', 'requests', '-1', '1e400', 'Europe/Zurich', 'Mars/Base'));
    const query = fc.dictionary(fc.constantFrom('start', 'end', 'granularity', 'metric', 'dimension', 'date', 'tz', 'project', 'tag', 'fill', 'limit', 'refresh'), param, { maxKeys: 5 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), query, async (endpoint, params) => {
        const search = new URLSearchParams(params).toString();
        const response = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/${endpoint}?${search}`, headers: bearer(keys.read) });
        expect(response.statusCode, `${endpoint}?${search}: ${response.body.slice(0, 300)}`).toBeLessThan(500);
        if (response.statusCode === 400) {
          const body = response.json() as { error: { code: string; message: string } };
          expect(body.error.message.length).toBeGreaterThan(3);
        }
      }),
      { numRuns: RUNS * 2 },
    );
  }, 180_000);
});

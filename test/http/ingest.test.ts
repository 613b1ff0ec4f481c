import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../factories/index.ts';
import { adminHeaders, bearer, createHttpTestContext, createOrgWithKeys, TEST_NOW } from '../support/http-context.ts';
import { ENGINES } from '../support/engines.ts';
import type { HttpTestContext } from '../support/http-context.ts';

/**
 * POST /api/v1/events through HTTP on each storage engine: the acceptance batch of issue 2
 * (10,000 events with 10 invalid rows, resent, then resent after a restart), the body formats
 * and limits, and who may write where.
 */

const engines = ENGINES;
const MINUTE = 60_000;
const DAY = 86_400_000;

interface IngestResponse {
  accepted: number;
  duplicates: number;
  rejected: { index: number; errors: { field: string; message: string }[] }[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One valid event of a rotating built-in type, with a stable idempotency key. */
function validEvent(i: number): Record<string, unknown> {
  const timestamp = iso(TEST_NOW - (i % 2000) * MINUTE);
  const id = `evt-${i}`;
  switch (i % 5) {
    case 0:
      return { id, type: 'llm_call', timestamp, model: 'gpt-4o-mini', provider: 'openai', usage_type: 'llm', input_tokens: 100 + i, output_tokens: 20 };
    case 1:
      return { id, type: 'page_usage', timestamp, pages: i % 7, failed_pages: i % 2, project: 'billing' };
    case 2:
      return { id, type: 'api_request', timestamp, endpoint: '/v1/extract', method: 'POST', status_code: i % 13 === 0 ? 500 : 200, latency_ms: i % 900 };
    case 3:
      return { id, type: 'file_execution', timestamp, execution_id: `exec-${i}`, file_name: 'a.pdf', status: 'COMPLETED', tag: 'nightly' };
    default:
      return { id, type: 'custom_thing', timestamp, amount: i, ok: true, note: null };
  }
}

/** The ten invalid rows of the acceptance batch: index → (event, field that must be named). */
const INVALID_ROWS: Record<number, { event: unknown; field: string }> = {
  7: { event: { id: 'bad-7', type: 'llm_call', model: 'gpt-4o' }, field: 'timestamp' },
  1_000: { event: { id: 'bad-1000', type: 'page_usage', timestamp: '2030-01-20T10:00:00', pages: 1 }, field: 'timestamp' },
  2_000: { event: { id: 'bad-2000', type: 'page_usage', timestamp: iso(TEST_NOW + 10 * MINUTE), pages: 1 }, field: 'timestamp' },
  3_000: { event: { id: 'bad-3000', type: 'page_usage', timestamp: iso(TEST_NOW - 91 * DAY), pages: 1 }, field: 'timestamp' },
  4_000: { event: { id: 'bad-4000', type: 'llm_call', timestamp: iso(TEST_NOW), model: 'gpt-4o', input_tokens: -5 }, field: 'input_tokens' },
  5_000: { event: { id: 'bad-5000', type: 'custom', timestamp: iso(TEST_NOW), nested: { a: 1 } }, field: 'nested' },
  6_000: { event: { id: 'bad-6000', type: 'llm_call', timestamp: iso(TEST_NOW), model: 'gpt-4o', status: 'maybe' }, field: 'status' },
  7_000: { event: { id: 'bad-7000', type: 'api_request', timestamp: iso(TEST_NOW), status_code: 700 }, field: 'status_code' },
  8_000: { event: 'not an event', field: '(event)' },
  9_999: { event: { id: 'x'.repeat(129), type: 'gauge', timestamp: iso(TEST_NOW), name: 'users', value: 3 }, field: 'id' },
};

function acceptanceBatch(): unknown[] {
  return Array.from({ length: 10_000 }, (_, i) => INVALID_ROWS[i]?.event ?? validEvent(i));
}

describe.each(engines)('POST /api/v1/events on %s', (engine) => {
  let t: HttpTestContext;
  let orgId: string;
  let keys: { ingest: string; read: string; admin: string };
  const post = (payload: unknown, headers: Record<string, string> = bearer(keys.ingest), url = '/api/v1/events') =>
    t.app.inject({ method: 'POST', url, headers, payload: payload as string });

  beforeAll(async () => {
    t = await createHttpTestContext(engine);
    orgId = uniqueId('ingest');
    keys = await createOrgWithKeys(t.app, { id: orgId, timezone: 'Europe/Zurich' });
  });
  afterAll(() => t.close());

  it('stores 9,990 of 10,000 events, rejects 10 by index and reason, and stays idempotent across a restart', async () => {
    const batch = acceptanceBatch();
    const expectedRejected = Object.keys(INVALID_ROWS).map(Number).sort((a, b) => a - b);

    const first = await post(batch);
    expect(first.statusCode).toBe(200);
    const firstBody = first.json() as IngestResponse;
    expect(firstBody.accepted).toBe(9_990);
    expect(firstBody.duplicates).toBe(0);
    expect(firstBody.rejected.map((r) => r.index)).toEqual(expectedRejected);
    for (const rejection of firstBody.rejected) {
      const fields = rejection.errors.map((e) => e.field);
      expect(fields, `index ${rejection.index}`).toContain(INVALID_ROWS[rejection.index]!.field);
      for (const error of rejection.errors) expect(error.message.length).toBeGreaterThan(3);
    }
    const future = firstBody.rejected.find((r) => r.index === 2_000)!;
    expect(future.errors[0]!.message).toMatch(/future/);
    const old = firstBody.rejected.find((r) => r.index === 3_000)!;
    expect(old.errors[0]!.message).toMatch(/retention/);
    expect(await t.ctx.storage.countEvents(orgId)).toBe(9_990);

    const second = (await post(batch)).json() as IngestResponse;
    expect(second).toMatchObject({ accepted: 0, duplicates: 9_990 });
    expect(second.rejected).toHaveLength(10);

    await t.reopen();
    const afterRestart = (await post(batch)).json() as IngestResponse;
    expect(afterRestart).toMatchObject({ accepted: 0, duplicates: 9_990 });
    expect(await t.ctx.storage.countEvents(orgId)).toBe(9_990);
  });

  it('accepts {"events": [...]} and NDJSON, reporting a bad NDJSON line at its own index', async () => {
    const wrapped = await post({ events: [validEvent(20_001), validEvent(20_002)] });
    expect(wrapped.json()).toEqual({ accepted: 2, duplicates: 0, rejected: [] });

    const ndjson = [JSON.stringify(validEvent(20_003)), '', '{"type": "llm_call", oops', JSON.stringify(validEvent(20_004)), ''].join('\n');
    const response = await post(ndjson, { ...bearer(keys.ingest), 'content-type': 'application/x-ndjson' });
    expect(response.statusCode).toBe(200);
    const body = response.json() as IngestResponse;
    expect(body.accepted).toBe(2);
    expect(body.rejected).toHaveLength(1);
    expect(body.rejected[0]!.index).toBe(1);
    expect(body.rejected[0]!.errors[0]!.message).toMatch(/line 3 is not valid JSON/);
  });

  it('accepts gzip-encoded JSON and NDJSON bodies', async () => {
    const json = gzipSync(JSON.stringify([validEvent(30_001), validEvent(30_002)]));
    const gzJson = await post(json, { ...bearer(keys.ingest), 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(gzJson.statusCode).toBe(200);
    expect(gzJson.json()).toMatchObject({ accepted: 2, duplicates: 0 });

    const ndjson = gzipSync([validEvent(30_003), validEvent(30_001)].map((e) => JSON.stringify(e)).join('\n'));
    const gzNdjson = await post(ndjson, { ...bearer(keys.ingest), 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(gzNdjson.json()).toMatchObject({ accepted: 1, duplicates: 1 });

    const corrupt = await post(Buffer.from('definitely not gzip'), { ...bearer(keys.ingest), 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(corrupt.statusCode).toBe(400);
    expect(corrupt.json().error.message).toMatch(/decompress/);
  });

  it('answers 400 naming the problem for bad JSON or a body of the wrong shape', async () => {
    const bad = await post('[{"type": "llm_call",', { ...bearer(keys.ingest), 'content-type': 'application/json' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_json');
    expect(bad.json().error.message).toMatch(/not valid JSON: .+/);

    const shape = await post({ type: 'llm_call' });
    expect(shape.statusCode).toBe(400);
    expect(shape.json().error.message).toMatch(/body: must be a JSON array of events/);
  });

  it('answers 413 above the body size, also when a small gzip body inflates past it, and above 10,000 events', async () => {
    const big = JSON.stringify([{ type: 'custom', timestamp: iso(TEST_NOW), padding: 'x'.repeat(5 * 1024 * 1024) }]);
    const plain = await post(big, { ...bearer(keys.ingest), 'content-type': 'application/json' });
    expect(plain.statusCode).toBe(413);
    expect(plain.json().error.code).toBe('payload_too_large');

    const bomb = gzipSync(big);
    expect(bomb.length).toBeLessThan(100_000);
    const inflated = await post(bomb, { ...bearer(keys.ingest), 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(inflated.statusCode).toBe(413);

    const tooMany = await post(Array.from({ length: 10_001 }, () => ({})));
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json().error.message).toMatch(/10000 events/);
  });

  it('answers 415 for bodies that are neither JSON nor NDJSON', async () => {
    const text = await post('hello', { ...bearer(keys.ingest), 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    const xml = await post('<a/>', { ...bearer(keys.ingest), 'content-type': 'application/xml' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe('unsupported_media_type');
  });

  it('answers 401 without a key or with an unknown one, before reading the body', async () => {
    const missing = await post([validEvent(40_001)], {});
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('unauthorized');
    const unknown = await post('not even json', { ...bearer('mb_ingest_nope'), 'content-type': 'application/json' });
    expect(unknown.statusCode).toBe(401);
  });

  it('answers 403 for a read key and for another organization, and lets admin keys pick the org', async () => {
    const other = uniqueId('other');
    const otherKeys = await createOrgWithKeys(t.app, { id: other });

    expect((await post([validEvent(50_001)], bearer(keys.read))).statusCode).toBe(403);
    const foreign = await post([validEvent(50_002)], bearer(keys.ingest), `/api/v1/events?org=${other}`);
    expect(foreign.statusCode).toBe(403);
    const nonexistent = await post([validEvent(50_002)], bearer(keys.ingest), '/api/v1/events?org=no-such-org');
    expect(nonexistent.statusCode).toBe(403);
    expect(nonexistent.json()).toEqual(foreign.json());
    expect((await post([validEvent(50_003)], bearer(keys.ingest), `/api/v1/events?org=${orgId}`)).statusCode).toBe(200);

    const asAdmin = await post([validEvent(50_004)], adminHeaders, `/api/v1/events?org=${other}`);
    expect(asAdmin.json()).toMatchObject({ accepted: 1 });
    // An organization's admin key writes to its own organization only (issue 13, finding 7).
    const orgAdmin = await post([validEvent(50_005)], bearer(otherKeys.admin), `/api/v1/events?org=${orgId}`);
    expect(orgAdmin.statusCode).toBe(403);
    const ownAdmin = await post([validEvent(50_005)], bearer(otherKeys.admin));
    expect(ownAdmin.json()).toMatchObject({ accepted: 1 });
    expect(await t.ctx.storage.countEvents(other)).toBe(2);

    const noOrg = await post([validEvent(50_006)], adminHeaders);
    expect(noOrg.statusCode).toBe(400);
    expect(noOrg.json().error.message).toMatch(/^org:/);
    expect((await post([validEvent(50_007)], adminHeaders, '/api/v1/events?org=no-such-org')).statusCode).toBe(404);
  });

  it('stores derived attributes: total tokens, cost and its source, country from ip, supersede key', async () => {
    const org = uniqueId('derive');
    const orgKeys = await createOrgWithKeys(t.app, { id: org });
    const ts = iso(TEST_NOW - MINUTE);
    const response = await post(
      [
        { id: 'computed', type: 'llm_call', timestamp: ts, model: 'gpt-4o', provider: 'openai', input_tokens: 1_000_000, output_tokens: 0 },
        { id: 'provided', type: 'llm_call', timestamp: ts, model: 'gpt-4o', input_tokens: 10, output_tokens: 5, cost_usd: 0.5 },
        { id: 'unknown', type: 'llm_call', timestamp: ts, model: 'no-such-model-xyz', input_tokens: 10 },
        { id: 'geo', type: 'api_request', timestamp: ts, status_code: 200, ip: '8.8.8.8' },
        { id: 'kept', type: 'api_request', timestamp: ts, status_code: 200, ip: '8.8.8.8', country: 'de' },
        { id: 'file', type: 'file_execution', timestamp: ts, execution_id: 'e1', file_name: 'a.pdf', status: 'completed' },
      ],
      bearer(orgKeys.ingest),
    );
    expect(response.json()).toMatchObject({ accepted: 6, rejected: [] });
    const stored = await t.ctx.storage.scanEvents({ orgId: org, from: TEST_NOW - DAY, to: TEST_NOW + DAY });
    const byId = new Map(stored.map((event) => [event.id, event]));
    const computed = byId.get('computed')!.attrs;
    expect(computed['total_tokens']).toBe(1_000_000);
    expect(computed['cost_source']).toBe('computed');
    expect(computed['cost_usd']).toBeGreaterThan(0);
    expect(byId.get('provided')!.attrs).toMatchObject({ cost_usd: 0.5, cost_source: 'provided', total_tokens: 15 });
    expect(byId.get('unknown')!.attrs).toMatchObject({ cost_source: 'unknown', total_tokens: 10 });
    expect(byId.get('unknown')!.attrs['cost_usd']).toBeUndefined();
    expect(byId.get('geo')!.attrs['country']).toBe('US');
    expect(byId.get('kept')!.attrs['country']).toBe('DE');
    expect(byId.get('file')!.attrs['status']).toBe('COMPLETED');
    expect(byId.get('file')!.supersedeKey).not.toBeNull();
    expect(byId.get('file')!.project).toBe('default');
    expect(byId.get('file')!.tag).toBe('');
  });

  it('counts a repeated id inside one batch as a duplicate and reports ingest on /metrics', async () => {
    const org = uniqueId('dups');
    const orgKeys = await createOrgWithKeys(t.app, { id: org });
    const event = validEvent(60_001);
    const response = await post([event, event, { type: 'nope' }], bearer(orgKeys.ingest));
    expect(response.json()).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(await t.ctx.storage.countEvents(org)).toBe(1);

    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const value = (result: string) => Number(new RegExp(`meterboard_events_ingested_total\\{result="${result}"\\} (\\d+)`).exec(metrics)?.[1]);
    expect(value('accepted')).toBeGreaterThanOrEqual(9_990);
    expect(value('duplicate')).toBeGreaterThanOrEqual(2 * 9_990);
    expect(value('rejected')).toBeGreaterThanOrEqual(30);
  });
});

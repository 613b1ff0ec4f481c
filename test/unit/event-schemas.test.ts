import { describe, expect, it } from 'vitest';
import { parseEvent, parseIsoTimestamp, ROOT_FIELD } from '../../src/domain/event-schemas.ts';

/** Event validation (SPEC §2), table-driven: what is accepted, what is normalized, what is refused and why. */

const NOW = Date.UTC(2030, 0, 20, 12, 0, 0);
const limits = { now: NOW, maxFutureSkewMs: 5 * 60_000, maxAgeMs: 90 * 86_400_000 };
const TS = '2030-01-20T11:00:00Z';

describe('parseIsoTimestamp', () => {
  it.each([
    ['2030-01-20T11:00:00Z', Date.UTC(2030, 0, 20, 11)],
    ['2030-01-20T11:00:00.250Z', Date.UTC(2030, 0, 20, 11, 0, 0, 250)],
    ['2030-01-20T11:00:00.123456789Z', Date.UTC(2030, 0, 20, 11, 0, 0, 123)],
    ['2030-01-20T11:00:00.57Z', Date.UTC(2030, 0, 20, 11, 0, 0, 570)],
    ['2030-01-20T11:00:00.5Z', Date.UTC(2030, 0, 20, 11, 0, 0, 500)],
    ['2030-01-20T16:30:00+05:30', Date.UTC(2030, 0, 20, 11)],
    ['2030-01-20T16:30:00+0530', Date.UTC(2030, 0, 20, 11)],
    ['2030-01-20T06:00:00-05', Date.UTC(2030, 0, 20, 11)],
    ['2030-01-20 11:00Z', Date.UTC(2030, 0, 20, 11)],
    ['2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)],
  ])('%s → instant', (text, expected) => {
    expect(parseIsoTimestamp(text)).toBe(expected);
  });

  it.each([
    '2030-01-20T11:00:00', // no offset: ambiguous
    '2030-01-20',
    '2030-02-30T00:00:00Z',
    '2029-02-29T00:00:00Z',
    '2030-13-01T00:00:00Z',
    '2030-01-20T24:00:00Z',
    '2030-01-20T11:00:00+25:00',
    '1769000000',
    'yesterday',
  ])('%s → null', (text) => {
    expect(parseIsoTimestamp(text)).toBeNull();
  });
});

function errorsOf(raw: unknown): { field: string; message: string }[] {
  const result = parseEvent(raw, limits);
  return result.ok ? [] : result.errors;
}

describe('parseEvent', () => {
  it('fills envelope defaults and keeps flat attributes', () => {
    const result = parseEvent({ type: 'custom_metric', timestamp: TS, a: 'x', b: 1.5, c: false, d: null }, limits);
    expect(result).toEqual({
      ok: true,
      event: { id: undefined, type: 'custom_metric', ts: Date.UTC(2030, 0, 20, 11), project: 'default', tag: '', attrs: { a: 'x', b: 1.5, c: false, d: null } },
    });
  });

  it.each([
    ['file_execution status', { type: 'file_execution', execution_id: 'e', file_name: 'f', status: 'completed' }, 'status', 'COMPLETED'],
    ['workflow pipeline_type', { type: 'workflow_execution', pipeline_type: 'API' }, 'pipeline_type', 'api'],
    ['workflow WF alias', { type: 'workflow_execution', pipeline_type: 'WF' }, 'pipeline_type', 'workflow'],
    ['llm_call status', { type: 'llm_call', model: 'm', status: 'Success' }, 'status', 'success'],
    ['hitl state', { type: 'hitl_review', state: 'APPROVED' }, 'state', 'approved'],
    ['api_request country', { type: 'api_request', status_code: 200, country: 'us' }, 'country', 'US'],
    ['api_request method', { type: 'api_request', status_code: 200, method: 'post' }, 'method', 'POST'],
  ])('normalizes %s', (_name, event, field, expected) => {
    const result = parseEvent({ ...event, timestamp: TS }, limits);
    expect(result.ok && result.event.attrs[field]).toBe(expected);
  });

  it.each([
    ['not an object', 'x', ROOT_FIELD, /JSON object/],
    ['an array', [1], ROOT_FIELD, /JSON object/],
    ['missing type', { timestamp: TS }, 'type', /required/],
    ['bad type name', { type: 'has space', timestamp: TS }, 'type', /letters, digits/],
    ['missing timestamp', { type: 'x' }, 'timestamp', /required/],
    ['timestamp without offset', { type: 'x', timestamp: '2030-01-20T11:00:00' }, 'timestamp', /offset/],
    ['numeric timestamp', { type: 'x', timestamp: 1_900_000_000 }, 'timestamp', /ISO 8601/],
    ['future timestamp', { type: 'x', timestamp: '2030-01-20T12:06:00Z' }, 'timestamp', /5m in the future/],
    ['too old', { type: 'x', timestamp: '2029-10-01T00:00:00Z' }, 'timestamp', /retention of 90d/],
    ['long id', { type: 'x', timestamp: TS, id: 'i'.repeat(129) }, 'id', /128/],
    ['numeric id', { type: 'x', timestamp: TS, id: 7 }, 'id', /string/],
    ['empty project', { type: 'x', timestamp: TS, project: '' }, 'project', /empty/],
    ['nested object', { type: 'x', timestamp: TS, meta: { a: 1 } }, 'meta', /flat.*an object/],
    ['array attribute', { type: 'x', timestamp: TS, list: [1, 2] }, 'list', /flat.*an array/],
    ['negative tokens', { type: 'llm_call', timestamp: TS, model: 'm', output_tokens: -1 }, 'output_tokens', /negative/],
    ['fractional tokens', { type: 'llm_call', timestamp: TS, model: 'm', input_tokens: 1.5 }, 'input_tokens', /integer/],
    ['llm_call without model', { type: 'llm_call', timestamp: TS }, 'model', /required/],
    ['unknown llm status', { type: 'llm_call', timestamp: TS, model: 'm', status: 'ok' }, 'status', /success, error/],
    ['negative pages', { type: 'page_usage', timestamp: TS, pages: -2 }, 'pages', /negative/],
    ['pages as text', { type: 'page_usage', timestamp: TS, pages: '3' }, 'pages', /number/],
    ['unknown pipeline', { type: 'workflow_execution', timestamp: TS, pipeline_type: 'batch' }, 'pipeline_type', /api, etl/],
    ['unknown file status', { type: 'file_execution', timestamp: TS, execution_id: 'e', file_name: 'f', status: 'DONE' }, 'status', /COMPLETED/],
    ['file without execution', { type: 'file_execution', timestamp: TS, file_name: 'f', status: 'ERROR' }, 'execution_id', /required/],
    ['unknown hitl state', { type: 'hitl_review', timestamp: TS, state: 'pondering' }, 'state', /created/],
    ['status code 99', { type: 'api_request', timestamp: TS, status_code: 99 }, 'status_code', /100 and 599/],
    ['status code 600', { type: 'api_request', timestamp: TS, status_code: 600 }, 'status_code', /100 and 599/],
    ['bad country', { type: 'api_request', timestamp: TS, status_code: 200, country: 'USA' }, 'country', /alpha-2/],
    ['negative latency', { type: 'api_request', timestamp: TS, status_code: 200, latency_ms: -1 }, 'latency_ms', /negative/],
    ['gauge without value', { type: 'gauge', timestamp: TS, name: 'users' }, 'value', /required/],
  ])('rejects %s naming the field', (_name, raw, field, message) => {
    const errors = errorsOf(raw);
    const error = errors.find((e) => e.field === field);
    expect(error, JSON.stringify(errors)).toBeDefined();
    expect(error!.message).toMatch(message);
  });

  it('reports every problem of an event, not only the first', () => {
    const errors = errorsOf({ type: 'api_request', timestamp: 'soon', status_code: 42, extra: { deep: true } });
    expect(errors.map((e) => e.field).sort()).toEqual(['extra', 'status_code', 'timestamp']);
  });

  it.each(['id', 'project', 'tag'])('rejects a NUL character in %s (PostgreSQL text cannot store it)', (field) => {
    const errors = errorsOf({ type: 'x', timestamp: TS, [field]: 'a\u0000b' });
    expect(errors).toEqual([{ field, message: 'must not contain the NUL character' }]);
  });

  it('refuses a __proto__ attribute instead of letting it reach the prototype', () => {
    const raw = JSON.parse(`{"type": "x", "timestamp": "${TS}", "__proto__": {"polluted": true}}`) as Record<string, unknown>;
    expect(errorsOf(raw)).toEqual([{ field: '__proto__', message: 'is a reserved name' }]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('rejects events of a local day partly past retention, naming the first accepted instant', () => {
    const oldestAcceptedMs = NOW - limits.maxAgeMs + 12 * 3_600_000;
    const withDay = { ...limits, oldestAcceptedMs };
    const before = parseEvent({ type: 'x', timestamp: new Date(oldestAcceptedMs - 1).toISOString() }, withDay);
    expect(before.ok).toBe(false);
    if (!before.ok) expect(before.errors[0]!.message).toContain(new Date(oldestAcceptedMs).toISOString());
    expect(parseEvent({ type: 'x', timestamp: new Date(oldestAcceptedMs).toISOString() }, withDay).ok).toBe(true);
  });

  it('accepts the edges: 5 minutes ahead, exactly at retention, zero tokens', () => {
    expect(parseEvent({ type: 'x', timestamp: '2030-01-20T12:05:00Z' }, limits).ok).toBe(true);
    expect(parseEvent({ type: 'x', timestamp: new Date(NOW - limits.maxAgeMs).toISOString() }, limits).ok).toBe(true);
    expect(parseEvent({ type: 'llm_call', timestamp: TS, model: 'm', input_tokens: 0, output_tokens: 0 }, limits).ok).toBe(true);
  });
});

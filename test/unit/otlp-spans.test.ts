import { describe, expect, test } from 'vitest';
import { decodeTraceRequest, encodeTraceRequestFromJson } from '../../src/otlp/otlp-proto.ts';
import { flattenTraceRequest, isUnreadable } from '../../src/otlp/otlp-spans.ts';
import type { OtlpSpan } from '../../src/otlp/otlp-spans.ts';
import { isLlmSpan, llmCallEvent, traceEvent } from '../../src/otlp/span-events.ts';

/** Reading OTLP requests (both encodings) and mapping spans to events, table-driven. */

const TRACE = '5b8efff798038103d269b633813fc60c';
const kv = (key: string, value: Record<string, unknown>) => ({ key, value });

function request(span: Record<string, unknown>, resource: unknown[] = []) {
  return {
    resourceSpans: [{
      resource: { attributes: resource },
      scopeSpans: [{ spans: [{ traceId: TRACE, spanId: 'eee19b7ec3c1b174', name: 'chat', startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000250500000', ...span }] }],
    }],
  };
}

function only(json: unknown): OtlpSpan {
  const [span] = flattenTraceRequest(json);
  if (!span || isUnreadable(span)) throw new Error(`unreadable: ${JSON.stringify(span)}`);
  return span;
}

describe('flattenTraceRequest', () => {
  test('JSON and protobuf encodings read the same span', () => {
    const json = request({
      parentSpanId: 'aaaaaaaaaaaaaaaa',
      status: { code: 2, message: 'boom' },
      attributes: [
        kv('gen_ai.request.model', { stringValue: 'gpt-4o' }),
        kv('gen_ai.usage.input_tokens', { intValue: '1200' }),
        kv('temperature', { doubleValue: 0.5 }),
        kv('stream', { boolValue: true }),
        kv('tags', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] } }),
        kv('meta', { kvlistValue: { values: [kv('k', { stringValue: 'v' })] } }),
      ],
    }, [kv('service.name', { stringValue: 'api' })]);
    const fromJson = only(json);
    const fromProto = only(decodeTraceRequest(encodeTraceRequestFromJson(json)));
    expect(fromProto).toEqual(fromJson);
    expect(fromJson).toMatchObject({
      traceId: TRACE,
      parentSpanId: 'aaaaaaaaaaaaaaaa',
      startMs: 1_700_000_000_000,
      endMs: 1_700_000_000_250.5,
      statusCode: 2,
      attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 1200, temperature: 0.5, stream: true, tags: '["a",2]', meta: '{"k":"v"}' },
      resource: { 'service.name': 'api' },
    });
  });

  test.each([
    [{ traceId: '' }, /traceId/],
    [{ traceId: '00000000000000000000000000000000' }, /traceId/],
    [{ spanId: 'xyz' }, /spanId/],
    [{ parentSpanId: 'abc' }, /parentSpanId/],
    [{ startTimeUnixNano: undefined }, /startTimeUnixNano/],
    [{ endTimeUnixNano: '1600000000000000000' }, /before/],
  ])('%j is unreadable: %s', (override, reason) => {
    const [span] = flattenTraceRequest(request(override));
    expect(span && isUnreadable(span) ? span.problem : '').toMatch(reason);
  });

  test('status given by name (some JSON encoders) counts as the numeric code', () => {
    expect(only(request({ status: { code: 'STATUS_CODE_ERROR' } })).statusCode).toBe(2);
  });
});

describe('span → events', () => {
  const span = (attributes: Record<string, string | number>, extra: Partial<OtlpSpan> = {}): OtlpSpan => ({
    traceId: TRACE, spanId: 'eee19b7ec3c1b174', parentSpanId: '', name: 'chat', startMs: 1_700_000_000_000, endMs: 1_700_000_000_812.25,
    statusCode: 0, statusMessage: '', attributes, resource: {}, ...extra,
  });

  test.each([
    [{ 'gen_ai.request.model': 'gpt-4o' }, true],
    [{ 'gen_ai.usage.input_tokens': 3 }, true],
    [{ 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai' }, true],
    [{ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }, false],
    [{ 'http.method': 'GET' }, false],
  ])('%j is an LLM call: %s', (attributes, expected) => {
    expect(isLlmSpan(span(attributes))).toBe(expected);
  });

  test('llm_call: response model wins, gen_ai.system as provider, embeddings usage type, user from enduser.id, error status', () => {
    const event = llmCallEvent(span(
      { 'gen_ai.request.model': 'text-embedding-3', 'gen_ai.response.model': 'text-embedding-3-small', 'gen_ai.system': 'openai', 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.input_tokens': 40, 'enduser.id': 'u-1' },
      { statusCode: 2 },
    ));
    expect(event).toMatchObject({
      id: `otlp-llm-${TRACE}-eee19b7ec3c1b174`, type: 'llm_call', timestamp: '2023-11-14T22:13:20.000Z',
      model: 'text-embedding-3-small', provider: 'openai', usage_type: 'embedding', input_tokens: 40, latency_ms: 812.25, status: 'error', user_id: 'u-1',
    });
  });

  test('trace: operation type, duration, summed usage, project from a resource attribute', () => {
    const event = traceEvent(span({ 'user.id': 'u-2' }, { name: 'rag.query', resource: { 'meterboard.project': 'search' } }), { tokens: 99, costUsd: 0.5 });
    expect(event).toMatchObject({ id: `otlp-trace-${TRACE}-eee19b7ec3c1b174`, type: 'trace', project: 'search', operation_type: 'rag.query', duration_ms: 812.25, tokens: 99, cost_usd: 0.5, status: 'success', user_id: 'u-2' });
  });
});

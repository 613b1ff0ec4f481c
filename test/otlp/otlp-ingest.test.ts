import { DiagLogLevel, ROOT_CONTEXT, SpanStatusCode, diag, trace } from '@opentelemetry/api';
import type { Attributes, Context, Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { calcPrice } from '@pydantic/genai-prices';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { breakdownOf, startLiveApp, summaryOf } from '../support/live-app.ts';
import type { LiveApp } from '../support/live-app.ts';

/**
 * POST /v1/traces with the official OpenTelemetry SDK and OTLP exporters (JSON and protobuf)
 * against the real app on a socket. The oracle is the list of spans the test itself created.
 */

const MODELS = [
  { model: 'gpt-4o-mini', provider: 'openai' },
  { model: 'claude-3-5-haiku-20241022', provider: 'anthropic' },
];

interface PlannedCall {
  model: string;
  provider: string;
  input: number;
  output: number;
  latencyMs: number;
  error: boolean;
  user: string;
}

interface PlannedTrace {
  operation: string;
  durationMs: number;
  error: boolean;
  user: string;
  calls: PlannedCall[];
}

/** A small deterministic PRNG so the plan is the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function planTraces(seed: number, count: number): PlannedTrace[] {
  const random = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  return Array.from({ length: count }, (_, t) => {
    const user = `user-${int(1, 3)}`;
    const calls = Array.from({ length: int(1, 3) }, () => {
      const { model, provider } = MODELS[int(0, MODELS.length - 1)]!;
      return { model, provider, input: int(10, 5000), output: int(1, 800), latencyMs: int(50, 1500) + 0.25, error: random() < 0.2, user };
    });
    return { operation: t % 2 === 0 ? 'rag.query' : 'document.extract', durationMs: 2000 + int(0, 3000), error: random() < 0.25, user, calls };
  });
}

/** An hrtime tuple keeps sub-millisecond times (a Date would round them away). */
const at = (ms: number): [number, number] => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/** Spans with explicit times: root [start, start + duration), its LLM calls one after another inside it. */
function emit(tracer: Tracer, plan: PlannedTrace[], baseMs: number): void {
  plan.forEach((planned, i) => {
    const start = baseMs + i * 10_000;
    const root = tracer.startSpan(planned.operation, { startTime: at(start), attributes: { 'user.id': planned.user } });
    const parent: Context = trace.setSpan(ROOT_CONTEXT, root);
    let cursor = start + 5;
    planned.calls.forEach((call, c) => {
      const attributes: Attributes = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': call.model,
        'gen_ai.response.model': call.model,
        [c % 2 === 0 ? 'gen_ai.provider.name' : 'gen_ai.system']: call.provider,
        'gen_ai.usage.input_tokens': call.input,
        'gen_ai.usage.output_tokens': call.output,
        [c % 2 === 0 ? 'user.id' : 'enduser.id']: call.user,
      };
      const span = tracer.startSpan(`chat ${call.model}`, { startTime: at(cursor), attributes }, parent);
      if (call.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited upstream' });
      span.end(at(cursor + call.latencyMs));
      cursor += call.latencyMs + 1;
    });
    // A tool span carries gen_ai.* too but is not a model call: no llm_call, no rejection.
    tracer.startSpan('execute_tool search', { startTime: at(start + 1), attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' } }, parent).end(at(start + 2));
    if (planned.error) root.setStatus({ code: SpanStatusCode.ERROR });
    root.end(at(start + planned.durationMs));
  });
}

function costOf(call: PlannedCall, whenMs: number): number {
  const price = calcPrice({ input_tokens: call.input, output_tokens: call.output }, call.model, { providerId: call.provider, timestamp: new Date(whenMs) });
  if (!price) throw new Error(`the price table does not know ${call.provider}/${call.model}`);
  return price.total_price;
}

/** Sends every span twice (a retried export), so idempotency is exercised through the real exporter. */
function twice(inner: SpanExporter): SpanExporter {
  return {
    export(spans: ReadableSpan[], done) {
      inner.export(spans, (first) => {
        if (first.code !== 0) return done(first);
        inner.export(spans, done);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

async function sendWith(exporter: SpanExporter, plan: PlannedTrace[], baseMs: number): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlp-test' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 512, scheduledDelayMillis: 50 })],
  });
  emit(provider.getTracer('meterboard-test'), plan, baseMs);
  await provider.forceFlush();
  await provider.shutdown();
}

const warnings: string[] = [];
let app: LiveApp;

beforeAll(async () => {
  app = await startLiveApp();
  diag.setLogger(
    {
      error: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
      warn: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}, 60_000);

afterAll(async () => {
  diag.disable();
  await app?.dispose();
});

const ENCODINGS = [
  { name: 'json', orgId: 'otlp-json', exporter: (url: string, key: string) => new JsonTraceExporter({ url, headers: { authorization: `Bearer ${key}` } }) },
  { name: 'protobuf', orgId: 'otlp-proto', exporter: (url: string, key: string) => new ProtoTraceExporter({ url, headers: { authorization: `Bearer ${key}` } }) },
] as const;

describe.each(ENCODINGS)('OTLP/HTTP $name from the official exporter', ({ orgId, exporter, name }) => {
  test('llm_call and trace metrics equal the spans sent, sent twice and counted once', async () => {
    const keys = await app.createOrgWithKeys(orgId);
    warnings.length = 0;
    const plan = planTraces(name === 'json' ? 11 : 29, 24);
    const baseMs = Date.now() - 6 * 3_600_000;
    await sendWith(twice(exporter(`${app.url}/v1/traces`, keys.ingest)), plan, baseMs);
    await app.aggregate();

    const calls = plan.flatMap((t, i) => t.calls.map((c) => ({ ...c, startMs: baseMs + i * 10_000 })));
    const tracesCost = plan.map((t, i) => t.calls.reduce((sum, c) => sum + costOf(c, baseMs + i * 10_000), 0));
    const start = new Date(baseMs - 3_600_000);
    const end = new Date(Date.now() + 3_600_000);
    const metrics = ['llm.call_count', 'llm.tokens', 'llm.latency_ms', 'llm_usage', 'trace.count', 'trace.duration_ms', 'trace.tokens', 'trace.cost_usd'];
    const summary = await summaryOf(app, orgId, keys.read, metrics, start, end);
    const row = (metric: string) => summary.get(metric) ?? expect.fail(`no ${metric} in summary`);

    expect(row('llm.call_count').total_value).toBe(calls.length);
    expect(row('llm.tokens').total_value).toBe(calls.reduce((n, c) => n + c.input + c.output, 0));
    expect(row('llm.latency_ms').total_count).toBe(calls.length);
    expect(row('llm.latency_ms').total_value).toBeCloseTo(calls.reduce((n, c) => n + c.latencyMs, 0), 3);
    expect(row('llm.latency_ms').max_value).toBeCloseTo(Math.max(...calls.map((c) => c.latencyMs)), 3);
    expect(row('llm_usage').total_value).toBeCloseTo(calls.reduce((n, c) => n + costOf(c, c.startMs), 0), 9);
    expect(row('trace.count').total_value).toBe(plan.length);
    expect(row('trace.duration_ms').total_value).toBeCloseTo(plan.reduce((n, t) => n + t.durationMs, 0), 3);
    expect(row('trace.tokens').total_value).toBe(calls.reduce((n, c) => n + c.input + c.output, 0));
    expect(row('trace.cost_usd').total_value).toBeCloseTo(tracesCost.reduce((a, b) => a + b, 0), 9);

    // Users and models per call through the breakdown API; status as stored.
    const byUser = await breakdownOf(app, orgId, keys.read, 'llm.call_count', 'user_id', start, end);
    const byModel = await breakdownOf(app, orgId, keys.read, 'llm.call_count', 'model', start, end);
    for (const user of ['user-1', 'user-2', 'user-3']) expect(byUser.get(user) ?? 0, user).toBe(calls.filter((c) => c.user === user).length);
    for (const { model } of MODELS) expect(byModel.get(model) ?? 0, model).toBe(calls.filter((c) => c.model === model).length);
    const stored = await app.storedEvents(orgId, ['llm_call']);
    expect(stored).toHaveLength(calls.length);
    expect(stored.filter((e) => e.attrs['status'] === 'error')).toHaveLength(calls.filter((c) => c.error).length);
    const traces = await app.storedEvents(orgId, ['trace']);
    expect(traces.filter((e) => e.attrs['status'] === 'error')).toHaveLength(plan.filter((t) => t.error).length);
    expect(warnings.filter((w) => w.includes('Partial Success'))).toEqual([]);
  }, 60_000);

  test('spans that cannot become valid events are reported in partialSuccess; the others are stored', async () => {
    const keys = await app.createOrgWithKeys(`${orgId}-bad`);
    warnings.length = 0;
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter(`${app.url}/v1/traces`, keys.ingest), { scheduledDelayMillis: 50 })] });
    const tracer = provider.getTracer('meterboard-test');
    const now = Date.now() - 60_000;
    tracer.startSpan('chat', { startTime: at(now), attributes: { 'gen_ai.usage.input_tokens': 10, 'gen_ai.provider.name': 'openai' } }).end(at(now + 5)); // no model
    tracer.startSpan('chat', { startTime: at(now), attributes: { 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': -3 } }).end(at(now + 5));
    tracer.startSpan('chat', { startTime: at(now), attributes: { 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 3 } }).end(at(now + 5));
    await provider.forceFlush();
    await provider.shutdown();

    const partial = warnings.find((w) => w.includes('Partial Success')) ?? expect.fail(`no partial success logged: ${warnings.join('\n')}`);
    const body = JSON.parse(partial.slice(partial.indexOf('{'))) as { rejectedSpans: string | number; errorMessage: string };
    expect(Number(body.rejectedSpans)).toBe(2);
    expect(body.errorMessage).toMatch(/model/);
    expect(body.errorMessage).toMatch(/input_tokens/);
        // three root spans → three trace events; only the third span's llm_call is valid
    expect(await app.countEvents(`${orgId}-bad`)).toBe(3 + 1);
  }, 30_000);
});

describe('POST /v1/traces edges', () => {
  let ingestKey: string;
  const url = () => `${app.url}/v1/traces`;
  const jsonSpan = (spanId: string, extra: Record<string, unknown> = {}) => ({
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId,
    name: 'chat',
    startTimeUnixNano: String(BigInt(Date.now() - 60_000) * 1_000_000n),
    endTimeUnixNano: String(BigInt(Date.now() - 59_000) * 1_000_000n),
    attributes: [
      { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '12' } },
    ],
    ...extra,
  });
  const body = (spans: unknown[]) => JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] });

  beforeAll(async () => {
    ingestKey = (await app.createOrgWithKeys('otlp-edges')).ingest;
  });

  test('the route is in the OpenAPI document', async () => {
    const document = (await (await fetch(`${app.url}/api/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toContain('/v1/traces');
  });

  test('no or a wrong key answers 401 with a Status body', async () => {
    const missing = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: body([jsonSpan('eee19b7ec3c1b174')]) });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { code: number; message: string }).code).toBe(16);
    const wrong = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer mb_ingest_nope' }, body: '{}' });
    expect(wrong.status).toBe(401);
    expect(await app.countEvents('otlp-edges')).toBe(0);
  });

  test('gzip JSON is accepted, the full success answer is an empty response, bad ids are rejected by name', async () => {
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${ingestKey}` },
      body: gzipSync(body([jsonSpan('eee19b7ec3c1b174'), jsonSpan('zz')])),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const answer = (await response.json()) as { partialSuccess?: { rejectedSpans: string; errorMessage: string } };
    expect(answer.partialSuccess?.rejectedSpans).toBe('1');
    expect(answer.partialSuccess?.errorMessage).toMatch(/spanId/);
    // the root span with GenAI attributes is both an llm_call and a trace
    expect(await app.countEvents('otlp-edges')).toBe(2);
    const again = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ingestKey}` }, body: body([jsonSpan('eee19b7ec3c1b174')]) });
    expect(await again.json()).toEqual({});
    expect(await app.countEvents('otlp-edges')).toBe(2);
  });

  test('415 for another media type, 400 for a body that is not an export request, 413 above the size limit', async () => {
    const auth = { authorization: `Bearer ${ingestKey}` };
    const text = await fetch(url(), { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' });
    expect(text.status).toBe(415);
    const notOtlp = await fetch(url(), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '[1,2]' });
    expect(notOtlp.status).toBe(400);
    const garbage = await fetch(url(), { method: 'POST', headers: { ...auth, 'content-type': 'application/x-protobuf' }, body: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]) });
    expect(garbage.status).toBe(400);
    expect(garbage.headers.get('content-type')).toMatch(/application\/x-protobuf/);
    const huge = await fetch(url(), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: `{"resourceSpans":[],"pad":"${'x'.repeat(6 * 1024 * 1024)}"}` });
    expect(huge.status).toBe(413);
  });
});

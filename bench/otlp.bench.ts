import { randomBytes } from 'node:crypto';
import { createKey, createOrg } from '../src/app/manage-orgs.ts';
import { createHttpServer } from '../src/compose.ts';
import { encodeTraceRequestFromJson } from '../src/otlp/otlp-proto.ts';
import type { BenchSection } from './report.ts';
import { createBenchContext, createBenchDatabase, fmtInt, fmtMs, noCache, percentile, type BenchOptions, type Engine } from './support.ts';

/**
 * Spans/s through `POST /v1/traces` over a real socket, in both OTLP encodings, with requests of
 * 512 spans (the batch span processor's default export size) and a few in flight. Each trace is
 * a root span plus LLM-call children carrying GenAI attributes, so every span becomes an event.
 * Bodies are encoded before the clock starts.
 */

export interface OtlpBenchConfig {
  spans: number;
  spansPerRequest: number;
  spansPerTrace: number;
  concurrency: number;
}

type Encoding = 'protobuf' | 'json';
const ENCODINGS: readonly Encoding[] = ['protobuf', 'json'];

interface Figures {
  spansPerSec: number;
  p50Ms: number;
  p95Ms: number;
  stored: number;
  expected: number;
  failures: number;
}

const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku-20241022', 'text-embedding-3-small'];
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const nanos = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;
const kv = (key: string, value: string | number) => ({ key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } });

/** OTLP JSON requests of `spansPerRequest` spans, traces spread over the last day. */
function requests(config: OtlpBenchConfig, seed: number): unknown[] {
  const out: unknown[] = [];
  const now = Date.now() - 60_000;
  let made = 0;
  let trace = seed * 1_000_000;
  while (made < config.spans) {
    const spans: unknown[] = [];
    while (spans.length < config.spansPerRequest && made < config.spans) {
      trace += 1;
      const traceId = hex(16);
      const rootId = hex(8);
      const start = now - (trace % 86_400) * 1000;
      spans.push({ traceId, spanId: rootId, name: 'rag.query', startTimeUnixNano: nanos(start), endTimeUnixNano: nanos(start + 2500), attributes: [kv('user.id', `user-${trace % 50}`)] });
      made += 1;
      for (let c = 1; c < config.spansPerTrace && made < config.spans && spans.length < config.spansPerRequest; c += 1, made += 1) {
        const model = MODELS[(trace + c) % MODELS.length]!;
        spans.push({
          traceId, spanId: hex(8), parentSpanId: rootId, name: `chat ${model}`,
          startTimeUnixNano: nanos(start + c * 10), endTimeUnixNano: nanos(start + c * 10 + 300 + (trace % 700)),
          attributes: [
            kv('gen_ai.operation.name', model.startsWith('text-embedding') ? 'embeddings' : 'chat'), kv('gen_ai.request.model', model),
            kv('gen_ai.provider.name', model.startsWith('claude') ? 'anthropic' : 'openai'),
            kv('gen_ai.usage.input_tokens', 100 + (trace % 900)), kv('gen_ai.usage.output_tokens', 10 + (trace % 200)), kv('user.id', `user-${trace % 50}`),
          ],
          ...(trace % 20 === 0 ? { status: { code: 2, message: 'upstream error' } } : {}),
        });
      }
    }
    out.push({ resourceSpans: [{ resource: { attributes: [kv('service.name', 'bench')] }, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] });
  }
  return out;
}

async function measure(engine: Engine, encoding: Encoding, config: OtlpBenchConfig, options: BenchOptions): Promise<Figures> {
  const db = await createBenchDatabase(engine, `otlp_${encoding}`, options);
  const ctx = createBenchContext(db.storage, noCache);
  const app = createHttpServer(ctx, { logger: false });
  try {
    const org = await createOrg(ctx, { id: 'bench-otlp', name: 'Bench OTLP', timezone: 'UTC' });
    const { secret } = await createKey(ctx, { orgId: org.id, scope: 'ingest' });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `${address}/v1/traces`;
    const headers = { 'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json', authorization: `Bearer ${secret}` };
    const encode = (request: unknown): string | Uint8Array<ArrayBuffer> => (encoding === 'protobuf' ? new Uint8Array(encodeTraceRequestFromJson(request)) : JSON.stringify(request));

    const warmup = requests({ ...config, spans: config.spansPerRequest * 3 }, 9).map(encode);
    for (const body of warmup) await fetch(url, { method: 'POST', headers, body });
    const before = await ctx.eventReader.countEvents(org.id);
    const work = requests(config, 1).map(encode);
    options.log(`  ${engine}/${encoding}: ${fmtInt(config.spans)} spans in ${work.length} requests, ${config.concurrency} in flight`);

    let next = 0;
    let failures = 0;
    const latencies: number[] = [];
    const client = async () => {
      while (next < work.length) {
        const body = work[next++]!;
        const started = performance.now();
        const response = await fetch(url, { method: 'POST', headers, body });
        const answer = Buffer.from(await response.arrayBuffer());
        latencies.push(performance.now() - started);
        // A fully accepted export answers an empty ExportTraceServiceResponse ({} or zero bytes).
        if (response.status !== 200 || (encoding === 'json' ? answer.toString() !== '{}' : answer.length !== 0)) {
          failures += 1;
          if (failures === 1) options.log(`  ${engine}/${encoding}: unexpected answer ${response.status} ${answer.toString().slice(0, 300)}`);
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: config.concurrency }, client));
    const seconds = (performance.now() - started) / 1000;
    return {
      spansPerSec: config.spans / seconds,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      stored: (await ctx.eventReader.countEvents(org.id)) - before,
      expected: config.spans,
      failures,
    };
  } finally {
    await app.close();
    await db.dispose();
  }
}

export async function runOtlpBench(engines: readonly Engine[], config: OtlpBenchConfig, options: BenchOptions): Promise<BenchSection> {
  const figures = new Map<string, Figures>();
  for (const engine of engines) for (const encoding of ENCODINGS) figures.set(`${engine}/${encoding}`, await measure(engine, encoding, config, options));
  const columns = engines.flatMap((engine) => ENCODINGS.map((encoding) => `${engine}/${encoding}`));
  const label = (column: string) => {
    const [engine, encoding] = column.split('/');
    return `${engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${encoding}`;
  };
  const cell = (pick: (f: Figures) => string) => columns.map((c) => pick(figures.get(c)!));
  return {
    id: 'otlp',
    scale: `${fmtInt(config.spans)} spans per engine and encoding (traces of 1 root + ${config.spansPerTrace - 1} GenAI spans, every span one event), ${config.spansPerRequest} spans per request, ${config.concurrency} requests in flight, client in the same process`,
    tables: [
      {
        header: ['', ...columns.map(label)],
        rows: [
          ['spans/s through POST /v1/traces', ...cell((f) => fmtInt(f.spansPerSec))],
          [`request latency p50 / p95 (${config.spansPerRequest} spans)`, ...cell((f) => `${fmtMs(f.p50Ms)} / ${fmtMs(f.p95Ms)}`)],
          ['events stored / spans sent', ...cell((f) => `${fmtInt(f.stored)} / ${fmtInt(f.expected)}${f.failures > 0 ? ` (${f.failures} failed requests)` : ''}`)],
        ],
      },
    ],
    findings: [],
  };
}

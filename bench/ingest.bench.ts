import { generateDemoBatches } from '../src/app/demo-events.ts';
import { ingestEvents } from '../src/app/ingest-events.ts';
import { createKey, createOrg } from '../src/app/manage-orgs.ts';
import { createHttpServer } from '../src/compose.ts';
import type { BenchSection } from './report.ts';
import { createBenchContext, createBenchDatabase, fmtInt, fmtMs, mark, noCache, percentile, type BenchOptions, type Engine } from './support.ts';

/**
 * Events/s through `POST /api/v1/events` over a real socket, batches of 1,000, a few requests
 * in flight. Bodies are serialized before the clock starts so the client (same process) costs
 * little; the use case alone (no HTTP) is measured too, to show what HTTP adds.
 */

export interface IngestBenchConfig {
  events: number;
  batchSize: number;
  concurrency: number;
  /** Events for the use-case-only figure. */
  directEvents: number;
}

interface IngestFigures {
  httpEventsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  directEventsPerSec: number;
  stored: number;
  expected: number;
  failures: number;
}

const GOAL_EVENTS_PER_SEC = 50_000;

function bodies(orgId: string, events: number, batchSize: number, seed: number): string[] {
  // Two days of traffic ending now: every timestamp passes ingest's retention and skew checks.
  const options = { orgId, days: 2, eventsPerDay: Math.ceil(events / 2), endMs: Date.now(), timezone: 'Europe/Zurich', seed };
  const out: string[] = [];
  for (const batch of generateDemoBatches(options, batchSize)) out.push(JSON.stringify(batch));
  return out;
}

async function measureEngine(engine: Engine, config: IngestBenchConfig, options: BenchOptions): Promise<IngestFigures> {
  const db = await createBenchDatabase(engine, 'ingest', options);
  const ctx = createBenchContext(db.storage, noCache);
  const app = createHttpServer(ctx, { logger: false });
  try {
    const org = await createOrg(ctx, { id: 'bench-ingest', name: 'Bench ingest', timezone: 'Europe/Zurich' });
    const { secret } = await createKey(ctx, { orgId: org.id, scope: 'ingest' });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `${address}/api/v1/events`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${secret}` };

    const warmup = bodies(org.id, config.batchSize * 5, config.batchSize, 999);
    for (const body of warmup) await fetch(url, { method: 'POST', headers, body });
    const work = bodies(org.id, config.events, config.batchSize, 1);
    const expected = work.length * config.batchSize;
    options.log(`  ${engine}: ${fmtInt(expected)} events in ${work.length} requests, ${config.concurrency} in flight`);

    let next = 0;
    let failures = 0;
    const latencies: number[] = [];
    const client = async () => {
      while (next < work.length) {
        const body = work[next++]!;
        const started = performance.now();
        const response = await fetch(url, { method: 'POST', headers, body });
        const result = (await response.json()) as { accepted?: number; rejected?: unknown[] };
        latencies.push(performance.now() - started);
        if (response.status !== 200 || result.accepted !== config.batchSize) {
          failures++;
          if (failures === 1) options.log(`  ${engine}: unexpected answer ${response.status} ${JSON.stringify(result).slice(0, 300)}`);
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: config.concurrency }, client));
    const seconds = (performance.now() - started) / 1000;
    const stored = (await ctx.eventReader.countEvents(org.id)) - warmup.length * config.batchSize;

    // The use case alone, in-process: validation, enrichment and the durable insert.
    const directOrg = await createOrg(ctx, { id: 'bench-direct', name: 'Bench direct', timezone: 'Europe/Zurich' });
    const direct = [...generateDemoBatches({ orgId: directOrg.id, days: 2, eventsPerDay: Math.ceil(config.directEvents / 2), endMs: Date.now(), timezone: 'UTC', seed: 3 }, config.batchSize)];
    const directStart = performance.now();
    for (const events of direct) await ingestEvents(ctx, { orgId: directOrg.id, events });
    const directSeconds = (performance.now() - directStart) / 1000;

    return {
      httpEventsPerSec: expected / seconds,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      directEventsPerSec: direct.reduce((n, b) => n + b.length, 0) / directSeconds,
      stored,
      expected,
      failures,
    };
  } finally {
    await app.close();
    await db.dispose();
  }
}

export async function runIngestBench(engines: readonly Engine[], config: IngestBenchConfig, options: BenchOptions): Promise<BenchSection> {
  const figures = new Map<Engine, IngestFigures>();
  for (const engine of engines) figures.set(engine, await measureEngine(engine, config, options));
  const cell = (pick: (f: IngestFigures) => string) => engines.map((e) => pick(figures.get(e)!));
  const header = ['', ...engines.map((e) => (e === 'sqlite' ? 'SQLite (embedded)' : 'PostgreSQL (server)'))];
  return {
    id: 'ingest',
    scale: `${fmtInt(config.events)} demo events of every type per engine, batches of ${fmtInt(config.batchSize)} (JSON), ${config.concurrency} requests in flight, one ingest key, client in the same process`,
    tables: [
      {
        header,
        rows: [
          ['events/s through HTTP', ...cell((f) => fmtInt(f.httpEventsPerSec))],
          [`request latency p50 / p95 (${fmtInt(config.batchSize)} events)`, ...cell((f) => `${fmtMs(f.p50Ms)} / ${fmtMs(f.p95Ms)}`)],
          [`events/s, ingest use case only (no HTTP, ${fmtInt(config.directEvents)} events)`, ...cell((f) => fmtInt(f.directEventsPerSec))],
          ['events stored / sent', ...cell((f) => `${fmtInt(f.stored)} / ${fmtInt(f.expected)}${f.failures > 0 ? ` (${f.failures} failed requests)` : ''}`)],
          [`goal ≥ ${fmtInt(GOAL_EVENTS_PER_SEC)} events/s`, ...cell((f) => mark(f.httpEventsPerSec >= GOAL_EVENTS_PER_SEC && f.failures === 0))],
        ],
      },
    ],
    findings: engines.map((e) => {
      const f = figures.get(e)!;
      const share = f.httpEventsPerSec / f.directEventsPerSec;
      return `${e}: HTTP with ${config.concurrency} requests in flight reaches ${Math.round(share * 100)} % of the rate of the use case called one batch at a time in-process (HTTP adds body parsing, routing, auth; concurrency overlaps database round trips).`;
    }),
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { aggregateDirtyBuckets } from '../src/app/aggregate.ts';
import { seedDemo } from '../src/app/seed-demo.ts';
import { floorBucket, nextBucket } from '../src/domain/time-buckets.ts';
import { openDuckBaseline } from './duckdb-baseline.ts';
import { openRawBaseline, type BaselineQuery } from './raw-baseline.ts';
import type { ClientChildInput, ClientChildResult } from './query-client-child.ts';
import type { ServerChildInput, ServerChildReady, ServerChildReport } from './query-server-child.ts';
import type { BenchSection, BenchTable } from './report.ts';
import {
  createBenchContext, createBenchDatabase, fmtInt, settleDatabase, fmtMb, fmtMs, fmtSeconds, mark, noCache, percentile, runResultChild, waitUntilQuiet, compiledChild,
  type BenchOptions, type CacheKind, type Engine,
} from './support.ts';

/**
 * Query latency through HTTP over a generated history (default 1M events, 4 organizations,
 * 90 days; `--full` is the issue's 10M / 20 / 90). The server runs in a child process
 * (query-server-child.ts) so its peak RSS is the query mix's alone, and requests are timed from a
 * client process of its own (query-client-child.ts). Uncached figures come from
 * a server whose cache never hits, cached ones from the mode's real cache; in the same run the
 * raw GROUP BY baseline runs on the same database, and DuckDB answers the same questions from
 * the same raw events copied into it.
 */

export interface QueryBenchConfig {
  events: number;
  orgs: number;
  days: number;
  uncachedRequests: number;
  cachedRequests: number;
  /**
   * Untimed requests per endpoint and server before the timed ones, rotating organizations. A
   * fresh server process runs the query path unoptimized at first: one request per organization
   * left the JIT's warm-up in the uncached p95 (a 30-day series answered in 14 ms p95 over its
   * first 25 requests, 7 ms from the 50th on), which a running service pays once, not per request.
   * 1,000: at 10M events a fresh server's 7-day dashboard still answered in 1.78 / 3.76 ms
   * (p50 / p95) over its first 1,100 requests, 1.29 / 2.53 over the next 1,100 and 1.15 / 2.04
   * over the third (young generation growing, code optimized, caches filled). Their p95 is
   * reported beside the table (`warm-up p95`), never left out silently.
   */
  warmupRequests: number;
  baselineRuns: number;
}

interface EndpointFigures {
  name: string;
  uncached: number[];
  /** The uncached server's warm-up requests for this endpoint (not in the table's figures). */
  uncachedWarmup: number[];
  cached: number[];
  baseline: number[];
  duck: number[];
  bytes: number;
  /** The server's RSS high-water mark once this endpoint's requests were served. */
  serverMaxRssMb: number;
}

interface EngineFigures {
  loaded: number;
  loadMs: number;
  aggregateMs: number;
  settleMs: number;
  duckEvents: number;
  duckLoadMs: number;
  cacheKind: CacheKind;
  server: ServerChildReady & ServerChildReport;
  endpoints: EndpointFigures[];
  /** When the questions' ranges end, and the organizations' time zones (see rawEdgeFinding). */
  questionsAt: number;
  timeZones: string[];
}

const GOALS = { uncachedP95: 20, cachedP95: 2, ratio: 50, rssMb: 300 };
const DAY = 86_400_000;

interface Endpoint {
  name: string;
  /** The raw question it is compared with; null for requests that are only part of the memory mix. */
  baseline: BaselineQuery | null;
  path: (orgId: string) => string;
  /** Range the baseline scans. */
  range: () => { from: number; to: number };
}

function endpoints(now: number): Endpoint[] {
  const iso = (ts: number) => new Date(ts).toISOString();
  return [
    { name: 'dashboard?range=7d', baseline: 'dashboard', path: (org) => `/api/v1/orgs/${org}/dashboard?range=7d`, range: () => ({ from: now - 7 * DAY, to: now }) },
    {
      name: 'summary, 90 days',
      baseline: 'summary',
      path: (org) => `/api/v1/orgs/${org}/summary?start=${iso(now - 90 * DAY)}&end=${iso(now)}`,
      range: () => ({ from: now - 90 * DAY, to: now }),
    },
    {
      name: 'series, 30 days by day',
      baseline: 'series',
      path: (org) => `/api/v1/orgs/${org}/series?start=${iso(now - 30 * DAY)}&end=${iso(now)}&granularity=day`,
      range: () => ({ from: now - 30 * DAY, to: now }),
    },
    {
      name: 'breakdown by model, 30 days',
      baseline: 'breakdown',
      path: (org) => `/api/v1/orgs/${org}/breakdown?metric=requests&dimension=model&start=${iso(now - 30 * DAY)}&end=${iso(now)}`,
      range: () => ({ from: now - 30 * DAY, to: now }),
    },
    // The issue's memory mix also holds a series by hour with a dimension.
    {
      name: 'series, 7 days by hour, by model',
      baseline: null,
      path: (org) => `/api/v1/orgs/${org}/series?metric=requests&dimension=model&start=${iso(now - 7 * DAY)}&end=${iso(now)}&granularity=hour`,
      range: () => ({ from: now - 7 * DAY, to: now }),
    },
  ];
}

const SERVER_CHILD = new URL('./query-server-child.ts', import.meta.url).pathname;

interface ServerChild {
  ready: ServerChildReady;
  /** Memory figures so far. */
  memory(): Promise<ServerChildReport>;
  /** Memory figures, then the child exits. */
  report(): Promise<ServerChildReport>;
  kill(): void;
}

function startServerChild(input: ServerChildInput): Promise<ServerChild> {
  const child: ChildProcess = spawn(process.execPath, [compiledChild(SERVER_CHILD), JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const ask = (question: 'memory' | 'report') =>
    new Promise<ServerChildReport>((done) => {
      child.once('message', (message) => done(message as ServerChildReport));
      child.send(question);
    });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`query server child exited with ${code} before it was ready`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line === undefined) return;
      child.removeAllListeners('exit');
      child.stdout!.removeAllListeners('data');
      resolve({
        ready: JSON.parse(line.slice('READY '.length)) as ServerChildReady,
        memory: () => ask('memory'),
        report: () => ask('report'),
        kill: () => {
          if (child.exitCode === null) child.kill();
        },
      });
    });
  });
}

const CLIENT_CHILD = fileURLToPath(new URL('./query-client-child.ts', import.meta.url));

/** Times requests from a client process of its own (query-client-child.ts). */
function runClient(input: ClientChildInput): Promise<ClientChildResult> {
  return runResultChild<ClientChildResult>(CLIENT_CHILD, input, 'query client child');
}

async function timeRuns(runs: number, rotate: readonly string[], run: (orgId: string) => Promise<unknown>): Promise<number[]> {
  await run(rotate[0]!);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run(rotate[i % rotate.length]!);
    times.push(performance.now() - started);
  }
  return times;
}

async function measureEngine(engine: Engine, config: QueryBenchConfig, options: BenchOptions): Promise<EngineFigures> {
  const db = await createBenchDatabase(engine, 'query', options);
  const cacheKind: CacheKind = engine === 'sqlite' ? 'memory' : 'redis';
  const baseline = openRawBaseline(db.location);
  let duck: Awaited<ReturnType<typeof openDuckBaseline>> | null = null;
  let server: ServerChild | null = null;
  try {
    const loadCtx = createBenchContext(db.storage, noCache);
    const loadStart = performance.now();
    let lastLog = 0;
    const seeded = await seedDemo(loadCtx, {
      days: config.days,
      orgs: config.orgs,
      eventsPerDay: Math.ceil(config.events / config.orgs / config.days),
      aggregate: false,
      onProgress: ({ orgId, done, total }) => {
        if (performance.now() - lastLog < 15_000) return;
        lastLog = performance.now();
        options.log(`  ${engine}: loading ${orgId} ${fmtInt(done)} / ${fmtInt(total)}`);
      },
    });
    const loadMs = performance.now() - loadStart;
    const aggregateStart = performance.now();
    while ((await db.storage.dirtyOrgs()).length > 0) await aggregateDirtyBuckets(loadCtx);
    const aggregateMs = performance.now() - aggregateStart;
    options.log(`  ${engine}: ${fmtInt(seeded.accepted)} events loaded in ${fmtSeconds(loadMs)}, aggregated in ${fmtSeconds(aggregateMs)}`);
    await db.closeStorage();
    const settleMs = await settleDatabase(db.location);
    options.log(`  ${engine}: database brought to rest (${engine === 'postgres' ? 'VACUUM (ANALYZE)' : 'WAL checkpoint'}) in ${fmtSeconds(settleMs)}`);

    duck = await openDuckBaseline(db.location);
    options.log(`  ${engine}: ${fmtInt(duck.events)} events copied into DuckDB in ${fmtSeconds(duck.loadMs)}`);
    server = await startServerChild({ location: db.location, cacheKind, redisUrl: options.redisUrl });
    const { uncached: uncachedBase, cached: cachedBase } = server.ready;

    const orgIds = seeded.orgs.map((o) => o.id);
    const now = Date.now();
    const figures: EndpointFigures[] = [];
    // The server warms up on the whole mix before any question is timed, as a running service
    // has: a fresh process answered its first question's timed requests at 3.7–4.1 ms p95 after
    // 1,000 of that question alone, 2.7–2.9 ms after 1,000 of each other question too (10M events).
    const mixWarmup = new Map<string, number[]>();
    for (const endpoint of endpoints(now)) {
      const paths = orgIds.map((org) => endpoint.path(org));
      const warmups = Math.max(orgIds.length, config.warmupRequests);
      mixWarmup.set(endpoint.name, (await runClient({ base: uncachedBase, paths, warmups, runs: 0 })).warmupTimes);
      await runClient({ base: cachedBase, paths, warmups, runs: 0 });
    }
    for (const endpoint of endpoints(now)) {
      const f: EndpointFigures = { name: endpoint.name, uncached: [], uncachedWarmup: [], cached: [], baseline: [], duck: [], bytes: 0, serverMaxRssMb: NaN };
      // Warm-up: JIT and the database's page cache, on every organization.
      const paths = orgIds.map((org) => endpoint.path(org));
      const warmups = Math.max(orgIds.length, config.warmupRequests);
      const quiet = await waitUntilQuiet();
      options.log(`  ${engine}: ${endpoint.name}: this process quiet after ${fmtSeconds(quiet.ms)} (CPU ms per second: ${quiet.cpuMsPerSecond.join(', ')})`);
      const uncached = await runClient({ base: uncachedBase, paths, warmups, runs: config.uncachedRequests });
      [f.uncached, f.uncachedWarmup, f.bytes] = [uncached.times, mixWarmup.get(endpoint.name)!, uncached.bytes];
      f.cached = (await runClient({ base: cachedBase, paths, warmups, runs: config.cachedRequests })).times;
      f.serverMaxRssMb = (await server.memory()).maxRssMb;
      const question = endpoint.baseline;
      if (question !== null) {
        const { from, to } = endpoint.range();
        f.baseline = await timeRuns(config.baselineRuns, orgIds, (org) => baseline.run(question, org, from, to));
        const duckdb = duck;
        f.duck = await timeRuns(config.baselineRuns, orgIds, (org) => duckdb.run(question, org, from, to));
      }
      options.log(
        `  ${engine}: ${endpoint.name}: p95 uncached ${fmtMs(percentile(f.uncached, 95))}, cached ${fmtMs(percentile(f.cached, 95))}, ` +
          `raw ${fmtMs(percentile(f.baseline, 95))}, DuckDB ${fmtMs(percentile(f.duck, 95))}; server RSS high-water ${fmtMb(f.serverMaxRssMb)}`,
      );
      figures.push(f);
    }
    const report = await server.report();
    options.log(`  ${engine}: server peak RSS ${fmtMb(report.maxRssMb)} (${fmtMb(server.ready.startRssMb)} at start)`);
    return {
      loaded: seeded.accepted, loadMs, aggregateMs, settleMs, duckEvents: duck.events, duckLoadMs: duck.loadMs, cacheKind,
      server: { ...server.ready, ...report }, endpoints: figures,
      questionsAt: now, timeZones: seeded.orgs.map((o) => o.timezone),
    };
  } finally {
    server?.kill();
    duck?.close();
    await baseline.close();
    await db.dispose();
  }
}

const ratioText = (ratio: number): string => (!Number.isFinite(ratio) ? '—' : `${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(1)}×`);

function engineTable(engine: Engine, f: EngineFigures): BenchTable {
  const label = engine === 'sqlite' ? 'SQLite, in-process LRU cache' : 'PostgreSQL, Redis cache';
  return {
    caption:
      `${label} — ${fmtInt(f.loaded)} events loaded in ${fmtSeconds(f.loadMs)}, aggregated in ${fmtSeconds(f.aggregateMs)}, ` +
      `brought to rest (${engine === 'postgres' ? 'VACUUM (ANALYZE)' : 'WAL checkpoint'}) in ${fmtSeconds(f.settleMs)}; ` +
      `copied into DuckDB in ${fmtSeconds(f.duckLoadMs)}; server peak RSS ${fmtMb(f.server.maxRssMb)} ${mark(f.server.maxRssMb <= GOALS.rssMb)} ` +
      `(${fmtMb(f.server.startRssMb)} at start)`,
    header: [
      'endpoint', 'uncached p50 / p95', 'cached p50 / p95', 'raw GROUP BY p50 / p95', '× raw (p95)', 'DuckDB p50 / p95', '× DuckDB (p95)', 'response', 'server RSS high-water after it',
      'goals (uncached / cached / ×50 / beats DuckDB)',
    ],
    rows: f.endpoints.map((e) => {
      const [u50, u95, c50, c95] = [percentile(e.uncached, 50), percentile(e.uncached, 95), percentile(e.cached, 50), percentile(e.cached, 95)] as const;
      const compared = e.baseline.length > 0;
      const [b50, b95, d50, d95] = [percentile(e.baseline, 50), percentile(e.baseline, 95), percentile(e.duck, 50), percentile(e.duck, 95)] as const;
      const [raw, duck] = [b95 / u95, d95 / u95];
      return [
        e.name,
        `${fmtMs(u50)} / ${fmtMs(u95)}`,
        `${fmtMs(c50)} / ${fmtMs(c95)}`,
        compared ? `${fmtMs(b50)} / ${fmtMs(b95)}` : '—',
        ratioText(raw),
        compared ? `${fmtMs(d50)} / ${fmtMs(d95)}` : '—',
        ratioText(duck),
        `${fmtInt(e.bytes / 1024)} KiB`,
        fmtMb(e.serverMaxRssMb),
        `${mark(u95 <= GOALS.uncachedP95)} ${mark(c95 <= GOALS.cachedP95)}` + (compared ? ` ${mark(raw >= GOALS.ratio)} ${mark(duck > 1)}` : ' (memory mix only)'),
      ];
    }),
  };
}

/** What the table leaves out: a fresh server's first requests, while its code and caches warm up. */
function warmupFinding(engine: Engine, warmups: number, f: EngineFigures): string {
  const figures = f.endpoints.map((e) => `${e.name} ${fmtMs(percentile(e.uncachedWarmup, 50))} / ${fmtMs(percentile(e.uncachedWarmup, 95))}`);
  return `${engine}: warm-up, the first ${fmtInt(warmups)} uncached requests of each question, asked in turn by a fresh server process before any is timed (p50 / p95, not in the table): ${figures.join('; ')}.`;
}

/**
 * The questions that start N days before "now" start inside an hour, and their first piece
 * (up to the first whole hour of the organization's zone) is folded from raw events on every
 * request; ADR 0017 spares only the end. How many minutes that is depends on the minute the
 * benchmark runs at (0 to 59), so runs at different minutes do different work.
 */
function rawEdgeFinding(engine: Engine, f: EngineFigures): string {
  const start = f.questionsAt - 30 * DAY;
  const byMinutes = new Map<number, Set<string>>();
  for (const zone of new Set(f.timeZones)) {
    const floor = floorBucket(start, 'hour', zone);
    const minutes = floor === start ? 0 : Math.round((nextBucket(floor, 'hour', zone) - start) / 60_000);
    (byMinutes.get(minutes) ?? byMinutes.set(minutes, new Set()).get(minutes)!).add(zone);
  }
  const at = new Date(f.questionsAt).toISOString().slice(11, 16);
  const spans = [...byMinutes].map(([minutes, zones]) => `${minutes} min in ${[...zones].join(', ')}`);
  return `${engine}: the ranges end at ${at} UTC; the summary, series and breakdown start 90 or 30 days earlier, inside an hour, and each of their requests also folds the raw events before the range's first whole hour: ${spans.join('; ')} (0–59 minutes depending on when the benchmark runs; the dashboard starts at local midnight).`;
}

export async function runQueryBench(engines: readonly Engine[], config: QueryBenchConfig, options: BenchOptions): Promise<BenchSection> {
  const figures = new Map<Engine, EngineFigures>();
  for (const engine of engines) figures.set(engine, await measureEngine(engine, config, options));
  const perOrg = Math.ceil(config.events / config.orgs / config.days) * config.days;
  const full = config.events >= 10_000_000 && config.orgs >= 20;
  return {
    id: 'query',
    scale:
      `${fmtInt(perOrg * config.orgs)} demo events, ${config.orgs} organizations × ${config.days} days (${fmtInt(perOrg)} per organization)` +
      `${full ? ' — the issue\'s scale' : ` — below the issue's 10M / 20 orgs (run with --full for it)`}; ` +
      `${config.uncachedRequests} uncached and ${config.cachedRequests} cached sequential requests per endpoint over one keep-alive HTTP connection (node:http) from a client process of its own, rotating organizations, after ${config.warmupRequests} untimed ones of every question (the mix first, then each question's own again), and once the benchmark's own process (which loaded the history and holds DuckDB) is idle; ` +
      `${config.baselineRuns} raw GROUP BY and DuckDB runs per question (after one warming run), rotating organizations; ratios are the baseline's p95 ÷ meterboard's uncached p95`,
    tables: engines.map((e) => engineTable(e, figures.get(e)!)),
    findings: engines.flatMap((e) => [warmupFinding(e, config.warmupRequests, figures.get(e)!), rawEdgeFinding(e, figures.get(e)!)]),
  };
}

import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runAggregateBench } from './aggregate.bench.ts';
import { runDashboardBench } from './dashboard.bench.ts';
import { runIngestBench } from './ingest.bench.ts';
import { runOtlpBench } from './otlp.bench.ts';
import { runPrometheusBench } from './prometheus.bench.ts';
import { runQueryBench } from './query.bench.ts';
import { runScaleOutBench } from './scale-out.bench.ts';
import { runSoakBench } from './soak.bench.ts';
import { runSteadyBench } from './steady.bench.ts';
import { writeReport, type BenchSection, type SectionId } from './report.ts';
import { ENGINES, withPgClient, type BenchOptions, type Engine } from './support.ts';

/**
 * `npm run bench` — runs the benchmarks and rewrites their sections of docs/PERFORMANCE.md.
 *   --only ingest,aggregate,steady,query,dashboard,otlp,soak,prometheus,scale-out   (default: all)
 *   --steady-sizes 100000,1000000           stored histories of the steady-pass benchmark (default 100k and 1M)
 *   --scale-seconds N                         push time per scale-out layout (default 30 s)
 *   --soak-minutes N  --soak-rate N           soak length (default 10 min) and requests per second (default 4)
 *   --engines sqlite,postgres                 (default: both)
 *   --quick                                   smaller scales, for a smoke run
 *   --full                                    the issues' scales (query: 10M events / 20 orgs)
 *   --ingest-events N  --otlp-spans N  --concurrency N  --agg-events N  --query-events N --query-orgs N --query-days N
 *   --no-write  --keep  --out FILE
 */

const HELP = `usage: node --import tsx bench/run.ts [--only ingest,aggregate,steady,query,dashboard,otlp,soak,prometheus,scale-out] [--engines sqlite,postgres]
       [--steady-sizes N,N] [--steady-rounds N]
       [--soak-minutes N] [--soak-rate N] [--scale-seconds N]
       [--quick | --full] [--ingest-events N] [--otlp-spans N] [--concurrency N] [--agg-events N] [--query-events N] [--query-orgs N]
       [--query-days N] [--pg-url URL] [--redis-url URL] [--out FILE] [--no-write] [--keep]`;

const ALL: readonly SectionId[] = ['ingest', 'aggregate', 'steady', 'query', 'dashboard', 'otlp', 'soak', 'prometheus', 'scale-out'];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    engines: { type: 'string' },
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    'ingest-events': { type: 'string' },
    'otlp-spans': { type: 'string' },
    concurrency: { type: 'string' },
    'agg-events': { type: 'string' },
    'steady-sizes': { type: 'string' },
    'steady-rounds': { type: 'string' },
    'query-events': { type: 'string' },
    'query-orgs': { type: 'string' },
    'query-days': { type: 'string' },
    'soak-minutes': { type: 'string' },
    'soak-rate': { type: 'string' },
    'scale-seconds': { type: 'string' },
    'pg-url': { type: 'string' },
    'redis-url': { type: 'string' },
    out: { type: 'string', default: 'docs/PERFORMANCE.md' },
    'no-write': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${HELP}\n`);
  process.exit(2);
}

function list<T extends string>(text: string | undefined, allowed: readonly T[], name: string): T[] {
  if (text === undefined) return [...allowed];
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) fail(`--${name}: unknown "${item}" (allowed: ${allowed.join(', ')})`);
  return items as T[];
}

function count(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const n = Number(text.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n <= 0) fail(`--${name}: expected a positive integer, got "${text}"`);
  return n;
}

if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
if (values.quick && values.full) fail('--quick and --full exclude each other');

const only = list(values.only, ALL, 'only');
const engines = list<Engine>(values.engines, ENGINES, 'engines');
const scale = values.quick ? 'quick' : values.full ? 'full' : 'default';
const options: BenchOptions = {
  pgUrl: values['pg-url'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: values['redis-url'] ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  keep: values.keep,
  log: (line) => process.stderr.write(`${line}\n`),
};

async function machine(): Promise<string[][]> {
  const cpus = os.cpus();
  const sqlite = new Database(':memory:');
  const sqliteVersion = (sqlite.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  sqlite.close();
  const pgVersion = engines.includes('postgres')
    ? await withPgClient(options.pgUrl, async (c) => String((await c.query('SHOW server_version')).rows[0]?.server_version)).catch(() => 'unreachable')
    : 'not used';
  return [
    ['Date', new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC'],
    ['CPU', `${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores`],
    ['Memory', `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`],
    ['OS', `${os.type()} ${os.release()} (${os.arch()})`],
    ['Node.js', process.version],
    // Other processes on the machine (test suites, builds) skew every figure; say how busy it was.
    ['Load average at start (1/5/15 min)', os.loadavg().map((n) => n.toFixed(2)).join(' / ')],
    ['SQLite', `${sqliteVersion} (better-sqlite3, WAL, synchronous=FULL)`],
    ['PostgreSQL', engines.includes('postgres') ? `${pgVersion}, on the same machine` : 'not used in this run'],
  ];
}

const machineRows = await machine();
const sections: BenchSection[] = [];
const started = performance.now();

async function step(id: SectionId, run: () => Promise<BenchSection | null>): Promise<void> {
  if (!only.includes(id)) return;
  options.log(`▶ ${id}`);
  const t0 = performance.now();
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const stamp = `Measured ${when} UTC on ${machineRows[1]![1]}, Node.js ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} at start.`;
  const section = await run();
  if (section) sections.push({ ...section, stamp });
  options.log(`  ${id} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

await step('ingest', () =>
  runIngestBench(
    engines,
    {
      events: count(values['ingest-events'], scale === 'quick' ? 20_000 : 200_000, 'ingest-events'),
      batchSize: 1_000,
      concurrency: count(values.concurrency, 4, 'concurrency'),
      directEvents: scale === 'quick' ? 10_000 : 50_000,
    },
    options,
  ),
);
await step('aggregate', () =>
  runAggregateBench(engines, { events: count(values['agg-events'], scale === 'quick' ? 100_000 : 1_000_000, 'agg-events'), orgs: 3, days: 30, steadyEvents: 10_000 }, options),
);
await step('steady', () => {
  const sizes = (values['steady-sizes'] ?? (scale === 'quick' ? '30000,100000' : '100000,1000000')).split(',').map((n) => count(n, 0, 'steady-sizes'));
  return runSteadyBench(engines, { sizes, orgs: 3, days: 30, steadyEvents: 10_000, rounds: count(values['steady-rounds'], 7, 'steady-rounds') }, options);
});
await step('query', () =>
  runQueryBench(
    engines,
    {
      events: count(values['query-events'], scale === 'quick' ? 100_000 : scale === 'full' ? 10_000_000 : 1_000_000, 'query-events'),
      orgs: count(values['query-orgs'], scale === 'quick' ? 2 : scale === 'full' ? 20 : 4, 'query-orgs'),
      days: count(values['query-days'], 90, 'query-days'),
      uncachedRequests: scale === 'quick' ? 30 : 200,
      cachedRequests: scale === 'quick' ? 100 : 1_000,
      warmupRequests: scale === 'quick' ? 20 : 1_000,
      baselineRuns: scale === 'quick' ? 5 : 20,
    },
    options,
  ),
);
await step('soak', () =>
  runSoakBench(
    { minutes: count(values['soak-minutes'], scale === 'quick' ? 1 : 10, 'soak-minutes'), rate: count(values['soak-rate'], 4, 'soak-rate'), batchSize: 50 },
    options,
  ),
);
await step('prometheus', () =>
  runPrometheusBench(engines, { orgs: 100, days: scale === 'quick' ? 2 : 7, eventsPerDay: scale === 'quick' ? 50 : 100, scrapes: scale === 'quick' ? 20 : 100 }, options),
);
// Real processes on PostgreSQL + Redis (server mode only).
if (engines.includes('postgres')) {
  await step('scale-out', () =>
    runScaleOutBench(
      { seconds: count(values['scale-seconds'], scale === 'quick' ? 10 : 30, 'scale-seconds'), batchSize: 1_000, concurrency: count(values.concurrency, 4, 'concurrency'), orgs: 4, workers: 2, aggregateEvery: '1s' },
      options,
    ),
  );
}
await step('dashboard', () => runDashboardBench({ days: 30, eventsPerDay: scale === 'quick' ? 2_000 : 10_000 }, options));
await step('otlp', () =>
  runOtlpBench(engines, { spans: count(values['otlp-spans'], scale === 'quick' ? 10_240 : 51_200, 'otlp-spans'), spansPerRequest: 512, spansPerTrace: 4, concurrency: count(values.concurrency, 4, 'concurrency') }, options),
);

if (!values['no-write']) {
  const out = path.resolve(values.out);
  writeReport(out, sections, machineRows);
  options.log(`wrote ${path.relative(process.cwd(), out)} (${sections.map((s) => s.id).join(', ') || 'machine only'})`);
}
options.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
// Lingering sockets (undici keep-alive, Redis) must not keep the process alive.
process.exit(0);

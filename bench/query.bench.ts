import type { FastifyInstance } from 'fastify';
import { aggregateDirtyBuckets } from '../src/app/aggregate.ts';
import { seedDemo } from '../src/app/seed-demo.ts';
import { createHttpServer } from '../src/compose.ts';
import { openRawBaseline, type BaselineQuery } from './raw-baseline.ts';
import type { BenchSection, BenchTable } from './report.ts';
import {
  BENCH_ADMIN_KEY, createBenchCache, createBenchContext, createBenchDatabase, fmtInt, fmtMs, fmtSeconds, mark, noCache, percentile,
  type BenchOptions, type CacheKind, type Engine,
} from './support.ts';

/**
 * Query latency through HTTP over a generated history (default 1M events, 4 organizations,
 * 90 days; `--full` is the issue's 10M / 20 / 90). Uncached figures come from a server whose
 * cache never hits, cached ones from the mode's real cache; the raw GROUP BY baseline runs
 * on the same database.
 */

export interface QueryBenchConfig {
  events: number;
  orgs: number;
  days: number;
  uncachedRequests: number;
  cachedRequests: number;
  baselineRuns: number;
}

interface EndpointFigures {
  name: string;
  uncached: number[];
  cached: number[];
  baseline: number[];
  bytes: number;
}

interface EngineFigures {
  loaded: number;
  loadMs: number;
  aggregateMs: number;
  cacheKind: CacheKind;
  endpoints: EndpointFigures[];
}

const GOALS = { uncachedP95: 20, cachedP95: 2, ratio: 50 };
const DAY = 86_400_000;

interface Endpoint {
  name: string;
  baseline: BaselineQuery;
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
  ];
}

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

async function get(base: string, path: string): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const response = await fetch(base + path, { headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}` } });
  const body = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${body.slice(0, 300)}`);
  return { ms, bytes: body.length };
}

async function measureEngine(engine: Engine, config: QueryBenchConfig, options: BenchOptions): Promise<EngineFigures> {
  const db = await createBenchDatabase(engine, 'query', options);
  const cacheKind: CacheKind = engine === 'sqlite' ? 'memory' : 'redis';
  const cache = createBenchCache(cacheKind, options);
  const uncachedApp = createHttpServer(createBenchContext(db.storage, noCache), { logger: false });
  const cachedApp = createHttpServer(createBenchContext(db.storage, cache), { logger: false });
  const baseline = openRawBaseline(db.location);
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

    const orgIds = seeded.orgs.map((o) => o.id);
    const [uncachedBase, cachedBase] = [await listen(uncachedApp), await listen(cachedApp)];
    const now = Date.now();
    const figures: EndpointFigures[] = [];
    for (const endpoint of endpoints(now)) {
      const f: EndpointFigures = { name: endpoint.name, uncached: [], cached: [], baseline: [], bytes: 0 };
      // Warm-up: JIT and the database's page cache, on every organization.
      for (const org of orgIds) f.bytes = (await get(uncachedBase, endpoint.path(org))).bytes;
      for (let i = 0; i < config.uncachedRequests; i++) f.uncached.push((await get(uncachedBase, endpoint.path(orgIds[i % orgIds.length]!))).ms);
      for (const org of orgIds) await get(cachedBase, endpoint.path(org));
      for (let i = 0; i < config.cachedRequests; i++) f.cached.push((await get(cachedBase, endpoint.path(orgIds[i % orgIds.length]!))).ms);
      const { from, to } = endpoint.range();
      await baseline.run(endpoint.baseline, orgIds[0]!, from, to);
      for (let i = 0; i < config.baselineRuns; i++) {
        const started = performance.now();
        await baseline.run(endpoint.baseline, orgIds[i % orgIds.length]!, from, to);
        f.baseline.push(performance.now() - started);
      }
      options.log(`  ${engine}: ${endpoint.name}: p95 uncached ${fmtMs(percentile(f.uncached, 95))}, cached ${fmtMs(percentile(f.cached, 95))}, raw ${fmtMs(percentile(f.baseline, 95))}`);
      figures.push(f);
    }
    return { loaded: seeded.accepted, loadMs, aggregateMs, cacheKind, endpoints: figures };
  } finally {
    await uncachedApp.close();
    await cachedApp.close();
    await baseline.close();
    await cache.close();
    await db.dispose();
  }
}

function engineTable(engine: Engine, f: EngineFigures): BenchTable {
  const label = engine === 'sqlite' ? 'SQLite, in-process LRU cache' : 'PostgreSQL, Redis cache';
  return {
    caption: `${label} — ${fmtInt(f.loaded)} events loaded in ${fmtSeconds(f.loadMs)}, aggregated in ${fmtSeconds(f.aggregateMs)}`,
    header: ['endpoint', 'uncached p50 / p95', 'cached p50 / p95', 'raw GROUP BY p50 / p95', 'speed-up (p95)', 'response', 'goals (uncached / cached / ×50)'],
    rows: f.endpoints.map((e) => {
      const [u50, u95, c50, c95, b50, b95] = [
        percentile(e.uncached, 50), percentile(e.uncached, 95), percentile(e.cached, 50),
        percentile(e.cached, 95), percentile(e.baseline, 50), percentile(e.baseline, 95),
      ] as const;
      const ratio = b95 / u95;
      return [
        e.name,
        `${fmtMs(u50)} / ${fmtMs(u95)}`,
        `${fmtMs(c50)} / ${fmtMs(c95)}`,
        `${fmtMs(b50)} / ${fmtMs(b95)}`,
        `${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(1)}×`,
        `${fmtInt(e.bytes / 1024)} KiB`,
        `${mark(u95 <= GOALS.uncachedP95)} ${mark(c95 <= GOALS.cachedP95)} ${mark(ratio >= GOALS.ratio)}`,
      ];
    }),
  };
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
      `${config.uncachedRequests} uncached and ${config.cachedRequests} cached sequential requests per endpoint over keep-alive HTTP, rotating organizations; ` +
      `${config.baselineRuns} baseline runs`,
    tables: engines.map((e) => engineTable(e, figures.get(e)!)),
    findings: [],
  };
}

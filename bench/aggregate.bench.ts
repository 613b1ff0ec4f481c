import { fileURLToPath } from 'node:url';
import { seedDemo } from '../src/app/seed-demo.ts';
import { BUILTIN_METRICS } from '../src/domain/metrics/catalog.ts';
import type { ChildInput, ChildResult } from './aggregate-child.ts';
import type { BenchSection } from './report.ts';
import { createBenchContext, createBenchDatabase, fmtBytes, fmtInt, fmtMb, fmtMs, fmtSeconds, mark, noCache, percentile, runResultChild, type BenchOptions, type Engine } from './support.ts';

/**
 * Aggregation of a fresh backlog (default 1M demo events, 30 days, 3 organizations in three
 * time zones, every built-in type) into every tier and dimension, then a steady pass. The
 * backlog is loaded through the ingest use case in this process; the aggregation runs in a
 * child process so its peak RSS is measured alone.
 */

export interface AggregateBenchConfig {
  events: number;
  orgs: number;
  days: number;
  steadyEvents: number;
}

interface EngineFigures {
  loaded: number;
  loadMs: number;
  child: ChildResult;
}

/** Issue 9: the full pass of 1M events within 5 s embedded, 8 s on the server engine. */
const GOALS = { fullMs: { sqlite: 5_000, postgres: 8_000 } as Record<Engine, number>, steadyMs: 200, rssMb: 300, rollupShare: 0.2 };
const CHILD = fileURLToPath(new URL('./aggregate-child.ts', import.meta.url));

export function runChild<R = ChildResult>(input: ChildInput): Promise<R> {
  return runResultChild<R>(CHILD, input, 'aggregation child');
}

async function measureEngine(engine: Engine, config: AggregateBenchConfig, options: BenchOptions): Promise<EngineFigures> {
  const db = await createBenchDatabase(engine, 'agg', options);
  try {
    const ctx = createBenchContext(db.storage, noCache);
    const eventsPerDay = Math.ceil(config.events / config.orgs / config.days);
    const loadStart = performance.now();
    let lastLog = 0;
    const seeded = await seedDemo(ctx, {
      days: config.days,
      orgs: config.orgs,
      eventsPerDay,
      aggregate: false,
      onProgress: ({ orgId, done, total }) => {
        if (performance.now() - lastLog < 10_000) return;
        lastLog = performance.now();
        options.log(`  ${engine}: loading ${orgId} ${fmtInt(done)} / ${fmtInt(total)}`);
      },
    });
    const loadMs = performance.now() - loadStart;
    if (seeded.rejected > 0) options.log(`  ${engine}: ${seeded.rejected} demo events rejected by ingest`);
    options.log(`  ${engine}: loaded ${fmtInt(seeded.accepted)} events in ${fmtSeconds(loadMs)}; aggregating in a child process`);
    await db.closeStorage();
    const child = await runChild({ location: db.location, orgs: seeded.orgs.map((o) => ({ id: o.id, timezone: o.timezone })), steadyEvents: config.steadyEvents, rounds: STEADY_PASSES });
    options.log(`  ${engine}: full pass ${fmtSeconds(child.fullMs)}, steady ${child.steadyWallMs.map(fmtMs).join(' / ')}, peak RSS ${fmtMb(child.processMaxRssMb)}`);
    return { loaded: seeded.accepted, loadMs, child };
  } finally {
    await db.dispose();
  }
}

const STEADY_PASSES = 5;
const warmSteadyMs = (f: EngineFigures) => percentile(f.child.steadyWallMs.slice(1), 50);

export async function runAggregateBench(engines: readonly Engine[], config: AggregateBenchConfig, options: BenchOptions): Promise<BenchSection> {
  const figures = new Map<Engine, EngineFigures>();
  for (const engine of engines) figures.set(engine, await measureEngine(engine, config, options));
  const cell = (pick: (f: EngineFigures) => string) => engines.map((e) => pick(figures.get(e)!));
  const perMillion = (f: EngineFigures, value: number) => (value * 1e6) / f.loaded;
  const header = ['', ...engines.map((e) => (e === 'sqlite' ? 'SQLite (embedded)' : 'PostgreSQL (server)'))];
  const rss = (f: EngineFigures) => Math.max(f.child.processMaxRssMb, f.child.sampledPeakMb);
  return {
    id: 'aggregate',
    scale: `${fmtInt(config.orgs * config.days * Math.ceil(config.events / config.orgs / config.days))} demo events (every built-in type, ${config.days} days, ${config.orgs} organizations in UTC, America/New_York and Asia/Kolkata), built-in catalog of ${BUILTIN_METRICS.length} metrics with their dimensions`,
    tables: [
      {
        caption: 'Full pass over the backlog (every hour dirty)',
        header,
        rows: [
          ['events loaded (ingest use case, batches of 5,000)', ...cell((f) => `${fmtInt(f.loaded)} in ${fmtSeconds(f.loadMs)} (${fmtInt(f.loaded / (f.loadMs / 1000))}/s)`)],
          ['dirty hours before the pass', ...cell((f) => fmtInt(f.child.dirtyHoursBefore))],
          ['full pass (hour → day → week → month)', ...cell((f) => `${fmtSeconds(f.child.fullMs)}${f.child.fullPasses > 1 ? ` (${f.child.fullPasses} passes)` : ''}`)],
          ['events aggregated per second', ...cell((f) => fmtInt(f.loaded / (f.child.fullMs / 1000)))],
          ['peak RSS of the aggregating process (kernel high-water / sampled)', ...cell((f) => `${fmtMb(f.child.processMaxRssMb)} / ${fmtMb(f.child.sampledPeakMb)}`)],
          [
            `goal full pass ≤ ${engines.map((e) => `${GOALS.fullMs[e] / 1000} s`).join(' / ')}, RSS ≤ ${GOALS.rssMb} MB`,
            ...engines.map((e) => { const f = figures.get(e)!; return `${mark(f.child.fullMs <= GOALS.fullMs[e])} / ${mark(rss(f) <= GOALS.rssMb)}`; }),
          ],
        ],
      },
      {
        caption: 'Rollup storage',
        header,
        rows: [
          ['rollup rows hour / day / week / month', ...cell((f) => ['hour', 'day', 'week', 'month'].map((g) => fmtInt(f.child.stats.rollupRows[g as 'hour'])).join(' / '))],
          ['rollup rows per million events', ...cell((f) => fmtInt(perMillion(f, f.child.stats.rollupRowsTotal)))],
          ['partials stored (rows of the pre-ADR-0006 layout) per million events', ...cell((f) => fmtInt(perMillion(f, f.child.stats.rollupValues)))],
          ['rollup bytes per million events (tables + indexes)', ...cell((f) => fmtBytes(perMillion(f, f.child.stats.rollupBytes)))],
          ['raw event bytes per million events (for comparison)', ...cell((f) => fmtBytes(perMillion(f, f.child.stats.eventBytes)))],
          [`rollup bytes ÷ raw event bytes (goal ≤ ${GOALS.rollupShare * 100} %)`, ...cell((f) => `${((100 * f.child.stats.rollupBytes) / f.child.stats.eventBytes).toFixed(1)} % ${mark(f.child.stats.rollupBytes <= GOALS.rollupShare * f.child.stats.eventBytes)}`)],
        ],
      },
      {
        caption: `Steady state: ${fmtInt(config.steadyEvents)} new events (the last 15 minutes of traffic) then one pass, ${STEADY_PASSES} times in the aggregating process`,
        header,
        rows: [
          ['dirty hours per pass', ...cell((f) => fmtInt(f.child.steadyDirtyHours))],
          ['steady passes in order', ...cell((f) => f.child.steadyWallMs.map(fmtMs).join(' / '))],
          ['first steady pass after the full pass (incremental path not yet warm)', ...cell((f) => fmtMs(f.child.steadyWallMs[0]!))],
          ['steady pass, warm (median of the passes after the first)', ...cell((f) => fmtMs(warmSteadyMs(f)))],
          ['idle pass (nothing dirty)', ...cell((f) => fmtMs(f.child.idleMs))],
          [`goal warm steady pass ≤ ${GOALS.steadyMs} ms`, ...cell((f) => mark(warmSteadyMs(f) <= GOALS.steadyMs))],
        ],
      },
    ],
    findings: [],
  };
}

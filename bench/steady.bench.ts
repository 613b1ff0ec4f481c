import os from 'node:os';
import { seedDemo } from '../src/app/seed-demo.ts';
import { runChild } from './aggregate.bench.ts';
import type { SteadyChildResult, SteadyRound } from './aggregate-child.ts';
import type { BenchSection } from './report.ts';
import { createBenchContext, createBenchDatabase, fmtInt, fmtMs, fmtSeconds, mark, noCache, percentile, type BenchOptions, type Engine } from './support.ts';

/**
 * The steady pass against stored history (issue 9, ADR 0007): the same 10,000 new events (the
 * last 15 minutes of 3 organizations) aggregated on top of a small and a large stored history,
 * side by side in one run, on each engine; plus the idle pass. Each history is loaded through
 * the ingest use case and fully aggregated, then a child process runs `rounds` steady passes
 * (each after its own fresh batch) and an idle pass after each; the first round is shown apart
 * (the incremental path's first run in the process) and medians are of the others, with the
 * child's CPU time beside the wall time because the machine is shared.
 */

export interface SteadyBenchConfig {
  /** Stored-history sizes (events), e.g. 100k and 1M. */
  sizes: number[];
  orgs: number;
  days: number;
  steadyEvents: number;
  rounds: number;
}

const GOALS = { steadyMs: 200, idleMs: 5, flatWithin: 0.2 };

interface Run {
  engine: Engine;
  size: number;
  loaded: number;
  loadAvg: number;
  child: SteadyChildResult;
}

const median = (values: readonly number[]) => percentile(values, 50);
/** The first round runs the incremental path cold (code not yet optimized, statements not yet prepared): medians are of the rest. */
const warmRounds = (run: Run) => (run.child.rounds.length > 1 ? run.child.rounds.slice(1) : run.child.rounds);
const medianRound = (run: Run, pick: (r: SteadyRound) => number) => median(warmRounds(run).map(pick));
const engineName = (engine: Engine) => (engine === 'sqlite' ? 'SQLite' : 'PostgreSQL');
const sizeName = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

async function measure(engine: Engine, size: number, config: SteadyBenchConfig, options: BenchOptions): Promise<Run> {
  const db = await createBenchDatabase(engine, 'steady', options);
  try {
    const ctx = createBenchContext(db.storage, noCache);
    const eventsPerDay = Math.ceil(size / config.orgs / config.days);
    const seeded = await seedDemo(ctx, { days: config.days, orgs: config.orgs, eventsPerDay, aggregate: false });
    await db.closeStorage();
    const loadAvg = os.loadavg()[0]!;
    const child = await runChild<SteadyChildResult>({
      location: db.location,
      orgs: seeded.orgs.map((o) => ({ id: o.id, timezone: o.timezone })),
      steadyEvents: config.steadyEvents,
      mode: 'steady',
      rounds: config.rounds,
    });
    const run: Run = { engine, size, loaded: seeded.accepted, loadAvg, child };
    options.log(`  ${engine} ${sizeName(size)}: full pass ${fmtSeconds(child.fullMs)}, steady ${fmtMs(medianRound(run, (r) => r.wallMs))} (CPU ${fmtMs(medianRound(run, (r) => r.cpuMs))}), idle ${fmtMs(median(child.idleWallMs))}`);
    return run;
  } finally {
    await db.dispose();
  }
}

export async function runSteadyBench(engines: readonly Engine[], config: SteadyBenchConfig, options: BenchOptions): Promise<BenchSection> {
  const runs: Run[] = [];
  for (const engine of engines) for (const size of config.sizes) runs.push(await measure(engine, size, config, options));
  const header = ['', ...runs.map((r) => `${engineName(r.engine)}, ${sizeName(r.size)} stored`)];
  const cell = (pick: (r: Run) => string) => runs.map(pick);
  const tiers = (r: Run, field: 'buckets' | 'rows' | 'remerged') =>
    (['hour', 'day', 'week', 'month'] as const).map((tier) => fmtInt(medianRound(r, (round) => round.tiers[tier][field]))).join(' / ');

  const findings: string[] = [];
  for (const engine of engines) {
    const mine = runs.filter((r) => r.engine === engine).sort((a, b) => a.size - b.size);
    if (mine.length < 2) continue;
    const small = mine[0]!;
    const large = mine[mine.length - 1]!;
    const cpu = medianRound(large, (r) => r.cpuMs) / medianRound(small, (r) => r.cpuMs);
    const wall = medianRound(large, (r) => r.wallMs) / medianRound(small, (r) => r.wallMs);
    findings.push(
      `${engineName(engine)}: steady pass with ${sizeName(large.size)} stored ÷ with ${sizeName(small.size)} stored = ${cpu.toFixed(2)}× CPU, ${wall.toFixed(2)}× wall ` +
        `(goal within ${GOALS.flatWithin * 100} %: ${mark(Math.abs(cpu - 1) <= GOALS.flatWithin)}).`,
    );
  }
  return {
    id: 'steady',
    scale: `${fmtInt(config.steadyEvents)} new demo events (the last 15 minutes of ${config.orgs} organizations) per round, ${config.rounds} rounds, on top of ${config.sizes.map(sizeName).join(' and ')} stored events (${config.days} days, fully aggregated first); medians of the rounds after the first`,
    tables: [
      {
        header,
        rows: [
          ['events stored before the rounds', ...cell((r) => fmtInt(r.loaded))],
          ['load average (1 min) before the child started', ...cell((r) => r.loadAvg.toFixed(2))],
          ['full pass over the history (for reference)', ...cell((r) => fmtSeconds(r.child.fullMs))],
          ['dirty hours per round', ...cell((r) => fmtInt(medianRound(r, (x) => x.dirtyHours)))],
          // Rounds add to the same hours, which a pass rereads whole: this grows round after round.
          ['raw events read per round (stored since each dirty hour was last folded, ADR 0019)', ...cell((r) => r.child.rounds.map((x) => fmtInt(x.scanned)).join(' / '))],
          ['steady pass per round, wall / CPU', ...cell((r) => r.child.rounds.map((x) => `${fmtMs(x.wallMs)} / ${fmtMs(x.cpuMs)}`).join('; '))],
          ['first steady pass in the process (cold), wall / CPU', ...cell((r) => `${fmtMs(r.child.rounds[0]!.wallMs)} / ${fmtMs(r.child.rounds[0]!.cpuMs)}`)],
          ['steady pass, wall (median of the rounds after the first)', ...cell((r) => fmtMs(medianRound(r, (x) => x.wallMs)))],
          ['steady pass, CPU of the aggregating process (same rounds)', ...cell((r) => fmtMs(medianRound(r, (x) => x.cpuMs)))],
          ['buckets written hour / day / week / month', ...cell((r) => tiers(r, 'buckets'))],
          ['rows written hour / day / week / month', ...cell((r) => tiers(r, 'rows'))],
          ['rows re-merged (delta not exact) day / … ', ...cell((r) => tiers(r, 'remerged'))],
          ['idle pass (nothing dirty), wall / CPU', ...cell((r) => `${fmtMs(median(r.child.idleWallMs))} / ${fmtMs(median(r.child.idleCpuMs))}`)],
          [`goal steady ≤ ${GOALS.steadyMs} ms / idle ≤ ${GOALS.idleMs} ms`, ...cell((r) => `${mark(medianRound(r, (x) => x.wallMs) <= GOALS.steadyMs)} / ${mark(median(r.child.idleWallMs) <= GOALS.idleMs)}`)],
        ],
      },
    ],
    findings,
  };
}

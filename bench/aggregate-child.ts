import { aggregateDirtyBuckets, type AggregateResult } from '../src/app/aggregate.ts';
import type { AppContext } from '../src/app/context.ts';
import { generateDemoBatches } from '../src/app/demo-events.ts';
import { ingestEvents } from '../src/app/ingest-events.ts';
import { storageStats, type StorageStats } from './db-stats.ts';
import { createBenchContext, noCache, openStorage, withRssSampling, type DatabaseLocation } from './support.ts';

/**
 * Runs in a process of its own (spawned by aggregate.bench.ts) so that its peak RSS is the
 * aggregation's, not the loader's: full pass over the backlog, storage figures, then steady
 * passes, each over a fresh batch, and an idle pass. Prints one `RESULT {json}` line.
 */

export interface ChildInput {
  location: DatabaseLocation;
  orgs: Array<{ id: string; timezone: string }>;
  steadyEvents: number;
  /**
   * 'steady' (steady.bench.ts): no storage figures, `rounds` steady passes and idle passes timed
   * with their CPU; 'full': the full pass, storage figures, `rounds` steady passes, one idle pass.
   */
  mode?: 'full' | 'steady';
  rounds?: number;
}

/** One steady round: fresh events ingested, then one pass, timed by wall clock and by this process's CPU. */
export interface SteadyRound {
  events: number;
  /** Raw events the pass read: every event of the dirty hours, earlier rounds' included. */
  scanned: number;
  dirtyHours: number;
  wallMs: number;
  cpuMs: number;
  tiers: NonNullable<AggregateResult['tiers']>;
}

export interface SteadyChildResult {
  fullMs: number;
  rounds: SteadyRound[];
  idleWallMs: number[];
  idleCpuMs: number[];
}

export interface ChildResult {
  dirtyHoursBefore: number;
  fullMs: number;
  fullPasses: number;
  sampledPeakMb: number;
  processMaxRssMb: number;
  baselineRssMb: number;
  stats: StorageStats;
  steadyEvents: number;
  /** Of the first steady round; every round ingests as many, into the same hours. */
  steadyDirtyHours: number;
  /** Each steady pass, in order: the first after the full pass, then warm ones. */
  steadyWallMs: number[];
  idleMs: number;
}

async function dirtyHours(ctx: AppContext): Promise<number> {
  let total = 0;
  for (const orgId of await ctx.dirtyQueue.dirtyOrgs()) total += (await ctx.dirtyQueue.listDirty(orgId, 1_000_000)).length;
  return total;
}

const HOUR_MS = 3_600_000;
/**
 * End of a round's 15 minutes: 25 past the previous hour. The window [10, 25) past the hour
 * crosses no hour boundary in the demo zones (UTC, New York, Kolkata's :30), so a round marks one
 * hour per organization whatever minute the bench runs at; ending at "now" made it 3 or 5 hours
 * depending on the clock, and two runs to compare did different work.
 */
function steadyWindowEnd(now: number): number {
  return Math.floor(now / HOUR_MS) * HOUR_MS - HOUR_MS + 25 * 60_000;
}

/** One scheduled run: passes until nothing is dirty (a pass may bound its own work). */
async function aggregateAll(ctx: AppContext): Promise<{ passes: number }> {
  let passes = 0;
  do {
    await aggregateDirtyBuckets(ctx);
    passes++;
  } while (passes < 100 && (await ctx.dirtyQueue.dirtyOrgs()).length > 0);
  return { passes };
}

async function main(input: ChildInput): Promise<ChildResult> {
  const storage = openStorage(input.location);
  const ctx = createBenchContext(storage, noCache);
  try {
    const dirtyHoursBefore = await dirtyHours(ctx);
    const baselineRssMb = process.memoryUsage.rss() / 1e6;
    const start = performance.now();
    const full = await withRssSampling(() => aggregateAll(ctx));
    const fullMs = performance.now() - start;
    const stats = await storageStats(input.location);

    // Steady passes as a running service makes them, each after a fresh 15 minutes of traffic:
    // the first in this process runs the incremental path cold (its code not yet optimized by
    // V8, its statements not yet prepared), the later ones as every pass after it does.
    const steadyWallMs: number[] = [];
    let steadyEvents = 0;
    let steadyDirtyHours = 0;
    for (let round = 0; round < (input.rounds ?? 1); round++) {
      const events = await ingestSteadyBatch(ctx, input, 77 + round);
      if (round === 0) [steadyEvents, steadyDirtyHours] = [events, await dirtyHours(ctx)];
      const steadyStart = performance.now();
      await aggregateAll(ctx);
      steadyWallMs.push(performance.now() - steadyStart);
    }
    const idleStart = performance.now();
    await aggregateDirtyBuckets(ctx);
    const idleMs = performance.now() - idleStart;
    return {
      dirtyHoursBefore,
      fullMs,
      fullPasses: full.result.passes,
      sampledPeakMb: full.sampledPeakMb,
      processMaxRssMb: full.processMaxRssMb,
      baselineRssMb,
      stats,
      steadyEvents,
      steadyDirtyHours,
      steadyWallMs,
      idleMs,
    };
  } finally {
    await ctx.dayFolder?.close();
    await storage.close();
  }
}

async function ingestSteadyBatch(ctx: AppContext, input: ChildInput, seed: number): Promise<number> {
  const endMs = steadyWindowEnd(Date.now());
  const perOrg = Math.ceil(input.steadyEvents / input.orgs.length);
  let accepted = 0;
  for (const org of input.orgs) {
    // The last 15 minutes of traffic: what one scheduled pass finds in a busy system.
    const options = { orgId: org.id, days: 1 / 96, eventsPerDay: perOrg * 96, endMs, timezone: org.timezone, seed };
    for (const events of generateDemoBatches(options, 5_000)) accepted += (await ingestEvents(ctx, { orgId: org.id, events })).accepted;
  }
  return accepted;
}

const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

/** Full pass untimed beyond its wall time, then `rounds` steady passes and as many idle passes. */
async function steadyMain(input: ChildInput): Promise<SteadyChildResult> {
  const storage = openStorage(input.location);
  const ctx = createBenchContext(storage, noCache);
  try {
    const start = performance.now();
    await aggregateAll(ctx);
    const fullMs = performance.now() - start;
    const rounds: SteadyRound[] = [];
    const idleWallMs: number[] = [];
    const idleCpuMs: number[] = [];
    for (let round = 0; round < (input.rounds ?? 3); round++) {
      const events = await ingestSteadyBatch(ctx, input, 77 + round);
      const dirty = await dirtyHours(ctx);
      const cpu = process.cpuUsage();
      const wall = performance.now();
      const result = await aggregateDirtyBuckets(ctx);
      rounds.push({ events, scanned: result.events, dirtyHours: dirty, wallMs: performance.now() - wall, cpuMs: cpuMsSince(cpu), tiers: result.tiers! });
      const idleCpu = process.cpuUsage();
      const idleWall = performance.now();
      await aggregateDirtyBuckets(ctx);
      idleWallMs.push(performance.now() - idleWall);
      idleCpuMs.push(cpuMsSince(idleCpu));
    }
    return { fullMs, rounds, idleWallMs, idleCpuMs };
  } finally {
    await ctx.dayFolder?.close();
    await storage.close();
  }
}

const input = JSON.parse(process.argv[2] ?? '{}') as ChildInput;
const result = input.mode === 'steady' ? await steadyMain(input) : await main(input);
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
process.exit(0);

import { aggregateEvents, compileMetrics } from '../domain/metrics/evaluate.ts';
import type { Organization } from '../domain/organization.ts';
import { mergeAllPartials } from '../domain/rollup-math.ts';
import type { Granularity, RollupRow } from '../domain/rollup-types.ts';
import { bucketStartsBetween, floorBucket, nextBucket } from '../domain/time-buckets.ts';
import type { AppContext } from './context.ts';

/**
 * The recomputation core shared by incremental passes, backfill and rebuilds: hour buckets
 * are recomputed from raw events, days are merged from hours, weeks and months from days
 * (count/sum/min/max/sketch partials, never averages). Every bucket it writes is replaced
 * whole, so zeros and vanished groups disappear and running it twice changes nothing.
 */

export type TierSelection = Readonly<Record<Granularity, boolean>>;
export const ALL_TIERS: TierSelection = { hour: true, day: true, week: true, month: true };

export interface RecomputeStats {
  /** Buckets rewritten, all tiers together. */
  buckets: number;
  /** Raw events read. */
  events: number;
  /** Dirty hours that could not be recomputed because their day's raw events are past retention. */
  expiredHours: number;
}

export interface RecomputeHooks {
  /** Called before every write; throws when the org's lease was lost, so nothing stale is written. */
  beforeWrite(): Promise<void>;
  /** Called after each day with the number of requested hours it covered. */
  onHours?(hours: number): void;
}

const HOUR_MS = 3_600_000;
/** Slack on the hour-retention cutoff: a pass must not trust hour rows a cleanup elsewhere may just have deleted. */
const RETENTION_SLACK_MS = 24 * HOUR_MS;
/** Pending rows that trigger a write; bounds memory while keeping writes in bulk. */
const FLUSH_ROWS = 100_000;

/**
 * Merges finer rows into the coarser buckets given by `bucketOf`. Sources are merged in
 * bucket order so floating-point sums come out bit-identical however they were gathered.
 */
export function mergeIntoBuckets(rows: readonly RollupRow[], granularity: Granularity, bucketOf: (start: number) => number): RollupRow[] {
  const ordered = [...rows].sort((a, b) => a.bucketStart - b.bucketStart);
  const targets = new Map<number, number>();
  const groups = new Map<string, { bucketStart: number; rows: RollupRow[] }>();
  for (const row of ordered) {
    let target = targets.get(row.bucketStart);
    if (target === undefined) {
      target = bucketOf(row.bucketStart);
      targets.set(row.bucketStart, target);
    }
    const key = `${target}\u0000${row.metric}\u0000${row.project}\u0000${row.tag}\u0000${row.dimName}\u0000${row.dimValue}`;
    const group = groups.get(key);
    if (group) group.rows.push(row);
    else groups.set(key, { bucketStart: target, rows: [row] });
  }
  const merged: RollupRow[] = [];
  for (const { bucketStart, rows: sources } of groups.values()) {
    const first = sources[0]!;
    const partial = sources.length === 1 ? first : mergeAllPartials(sources);
    merged.push({
      orgId: first.orgId,
      granularity,
      bucketStart,
      metric: first.metric,
      project: first.project,
      tag: first.tag,
      dimName: first.dimName,
      dimValue: first.dimValue,
      count: partial.count,
      sum: partial.sum,
      min: partial.min,
      max: partial.max,
      sketch: partial.sketch,
      lastValue: partial.lastValue,
      lastTs: partial.lastTs,
    });
  }
  return merged;
}

/** Contiguous runs of sorted bucket starts, as [from, to) ranges. */
function contiguousRanges(starts: readonly number[], granularity: Granularity, timeZone: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const start of starts) {
    const end = nextBucket(start, granularity, timeZone);
    const last = ranges[ranges.length - 1];
    if (last && last[1] === start) last[1] = end;
    else ranges.push([start, end]);
  }
  return ranges;
}

/** Hours of the org's current zone that overlap a mark's hour (marks of an older zone map to one or two). */
export function hoursOfMark(hourStart: number, timeZone: string): number[] {
  return floorBucket(hourStart, 'hour', timeZone) === hourStart ? [hourStart] : bucketStartsBetween(hourStart, hourStart + HOUR_MS, 'hour', timeZone);
}

/**
 * Recomputes the given hours (instants of hour starts in the org's zone) and every day,
 * week and month containing them, writing the tiers selected.
 */
export async function recomputeHours(
  ctx: AppContext,
  org: Organization,
  requestedHours: Iterable<number>,
  tiers: TierSelection,
  hooks: RecomputeHooks,
): Promise<RecomputeStats> {
  const tz = org.timezone;
  const now = ctx.clock.now();
  const rawCutoff = now - ctx.config.retention.rawMs;
  const hourRowsCutoff = now - ctx.config.retention.hourMs + RETENTION_SLACK_MS;
  const dayRowsCutoff = now - ctx.config.retention.dayMs + RETENTION_SLACK_MS;
  const stats: RecomputeStats = { buckets: 0, events: 0, expiredHours: 0 };

  // Group the requested hours by local day; decide per day which hours to recompute.
  const requestedByDay = new Map<number, Set<number>>();
  for (const hour of requestedHours) {
    const day = floorBucket(hour, 'day', tz);
    const set = requestedByDay.get(day) ?? new Set<number>();
    set.add(hour);
    requestedByDay.set(day, set);
  }
  const days = [...requestedByDay.keys()].sort((a, b) => a - b);
  const compiled = compileMetrics(ctx.metrics);
  const hourOf = (ts: number) => floorBucket(ts, 'hour', tz);
  const dayOf = (start: number) => floorBucket(start, 'day', tz);

  const freshDays = new Map<number, RollupRow[]>();
  let pendingHours: number[] = [];
  let pendingHourRows: RollupRow[] = [];
  let pendingDays: number[] = [];
  let pendingDayRows: RollupRow[] = [];

  const flush = async (): Promise<void> => {
    if (tiers.hour && pendingHours.length > 0) {
      await hooks.beforeWrite();
      await ctx.storage.replaceBuckets(org.id, 'hour', pendingHours, pendingHourRows);
      stats.buckets += pendingHours.length;
    }
    if (tiers.day && pendingDays.length > 0) {
      await hooks.beforeWrite();
      await ctx.storage.replaceBuckets(org.id, 'day', pendingDays, pendingDayRows);
      stats.buckets += pendingDays.length;
    }
    pendingHours = [];
    pendingHourRows = [];
    pendingDays = [];
    pendingDayRows = [];
  };

  for (const day of days) {
    const requested = requestedByDay.get(day)!;
    const dayEnd = nextBucket(day, 'day', tz);
    if (day < rawCutoff) {
      // Part of this day's events are gone: recomputing it would overwrite a complete day with a partial one.
      stats.expiredHours += requested.size;
      hooks.onHours?.(requested.size);
      continue;
    }
    const allHours = bucketStartsBetween(day, dayEnd, 'hour', tz);
    // Hour rows older than hour retention may be gone (and without the hour tier none are
    // written), so such days are recomputed whole from raw events.
    const wholeDay = !tiers.hour || day < hourRowsCutoff || requested.size >= allHours.length;
    const hours = wholeDay ? allHours : allHours.filter((h) => requested.has(h));

    const hourRows: RollupRow[] = [];
    for (const [from, to] of contiguousRanges(hours, 'hour', tz)) {
      const events = await ctx.storage.scanEvents({ orgId: org.id, from, to });
      stats.events += events.length;
      for (const row of aggregateEvents(events, compiled, hourOf, 'hour')) hourRows.push(row);
    }

    let dayInputs = hourRows;
    if (!wholeDay) {
      const recomputed = new Set(hours);
      const stored = await ctx.storage.readRollups({ orgId: org.id, granularity: 'hour', from: day, to: dayEnd });
      dayInputs = hourRows.concat(stored.filter((row) => !recomputed.has(row.bucketStart)));
    }
    const dayRows = mergeIntoBuckets(dayInputs, 'day', () => day);
    if (tiers.week || tiers.month) freshDays.set(day, dayRows);

    pendingHours.push(...hours);
    for (const row of hourRows) pendingHourRows.push(row);
    pendingDays.push(day);
    for (const row of dayRows) pendingDayRows.push(row);
    if (pendingHourRows.length + pendingDayRows.length >= FLUSH_ROWS) await flush();
    hooks.onHours?.(requested.size);
  }
  await flush();

  if (freshDays.size > 0) {
    await rebuildCoarseTiers(ctx, org, freshDays, tiers, dayRowsCutoff, hooks, stats);
  }
  return stats;
}

/** Weeks and months containing the recomputed days, merged from day rows (fresh ones from memory). */
async function rebuildCoarseTiers(
  ctx: AppContext,
  org: Organization,
  freshDays: ReadonlyMap<number, RollupRow[]>,
  tiers: TierSelection,
  dayRowsCutoff: number,
  hooks: RecomputeHooks,
  stats: RecomputeStats,
): Promise<void> {
  const tz = org.timezone;
  const coarse: Array<{ granularity: Granularity; starts: number[] }> = [];
  for (const granularity of ['week', 'month'] as const) {
    if (!tiers[granularity]) continue;
    const starts = [...new Set([...freshDays.keys()].map((day) => floorBucket(day, granularity, tz)))].sort((a, b) => a - b);
    // A bucket reaching back past day retention would be rebuilt from an incomplete set of days.
    const complete = starts.filter((start) => start >= dayRowsCutoff);
    if (complete.length < starts.length) {
      ctx.log.warn({ orgId: org.id, granularity, skipped: starts.length - complete.length }, 'buckets older than day retention left as they are');
    }
    if (complete.length > 0) coarse.push({ granularity, starts: complete });
  }
  if (coarse.length === 0) return;

  // Day rows of the days these buckets cover that this run did not recompute come from storage.
  const neededDays = new Set<number>();
  for (const { granularity, starts } of coarse) {
    for (const start of starts) {
      for (const day of bucketStartsBetween(start, nextBucket(start, granularity, tz), 'day', tz)) {
        if (!freshDays.has(day)) neededDays.add(day);
      }
    }
  }
  const dayRows: RollupRow[] = [];
  for (const rows of freshDays.values()) for (const row of rows) dayRows.push(row);
  const sortedNeeded = [...neededDays].sort((a, b) => a - b);
  for (const [from, to] of contiguousRanges(sortedNeeded, 'day', tz)) {
    for (const row of await ctx.storage.readRollups({ orgId: org.id, granularity: 'day', from, to })) dayRows.push(row);
  }

  for (const { granularity, starts } of coarse) {
    const wanted = new Set(starts);
    const bucketOfDay = new Map<number, number>();
    const bucketOf = (day: number): number => {
      let start = bucketOfDay.get(day);
      if (start === undefined) {
        start = floorBucket(day, granularity, tz);
        bucketOfDay.set(day, start);
      }
      return start;
    };
    const rows = mergeIntoBuckets(
      dayRows.filter((row) => wanted.has(bucketOf(row.bucketStart))),
      granularity,
      bucketOf,
    );
    await hooks.beforeWrite();
    await ctx.storage.replaceBuckets(org.id, granularity, starts, rows);
    stats.buckets += starts.length;
  }
}

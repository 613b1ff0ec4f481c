import type { Organization } from '../domain/organization.ts';
import type { Granularity, RollupRow } from '../domain/rollup-types.ts';
import { bucketStartsBetween, floorBucket, nextBucket } from '../domain/time-buckets.ts';
import type { AppContext } from './context.ts';
import type { TierCounts } from './tier-counts.ts';
import { contiguousRanges, mergeIntoBuckets } from './rollup-merge.ts';

/** Rebuilding weeks and months reads day/week rows back and replaces whole buckets. */
export type CoarseTierDeps = Pick<AppContext, 'rollupReader' | 'rollupWriter' | 'log'> & { config: Pick<AppContext['config'], 'retention'> };

/**
 * Weeks and months containing freshly recomputed days. A week is merged from its days. A
 * month is merged from the ISO weeks lying wholly inside it plus its remaining edge days
 * (fewer rows to read than 28–31 days; the same partials, since merging is associative).
 * The decomposition is fixed per month, so a month comes out bit-identical however often
 * and by whichever path it is rebuilt. Days written by this run and rows not recomputed in it
 * are read back.
 */

export interface CoarseTierInput {
  ctx: CoarseTierDeps;
  org: Organization;
  /** Days recomputed in this run, by day start: their rows, or null when written (read back). */
  freshDays: ReadonlyMap<number, RollupRow[] | null>;
  weeks: boolean;
  months: boolean;
  /** Buckets starting before this may have lost day rows to retention; they are left alone. */
  dayRowsCutoff: number;
  beforeWrite(): Promise<void>;
  /** Buckets and rows written are added here. */
  tiers?: TierCounts;
}

interface MonthPlan {
  start: number;
  /** Weeks wholly inside the month. */
  weeks: number[];
  /** Days of the month outside those weeks. */
  days: number[];
}

const ascending = (a: number, b: number) => a - b;

/** Returns the number of buckets written. */
export async function rebuildCoarseTiers(input: CoarseTierInput): Promise<number> {
  const { ctx, org, freshDays } = input;
  const tz = org.timezone;
  const next = (start: number, granularity: Granularity) => nextBucket(start, granularity, tz);
  const daysOf = (from: number, to: number) => bucketStartsBetween(from, to, 'day', tz);

  const affected = (granularity: Granularity): number[] => {
    const starts = [...new Set([...freshDays.keys()].map((day) => floorBucket(day, granularity, tz)))].sort(ascending);
    const complete = starts.filter((start) => start >= input.dayRowsCutoff);
    if (complete.length < starts.length) {
      ctx.log.warn({ orgId: org.id, granularity, skipped: starts.length - complete.length }, 'buckets older than day retention left as they are');
    }
    return complete;
  };
  const weekStarts = input.weeks ? affected('week') : [];
  // Stored week rows are trustworthy only when this run keeps weeks current and none expire.
  const composeFromWeeks = input.weeks && ctx.config.retention.weekMs === null;
  const months: MonthPlan[] = (input.months ? affected('month') : []).map((start) => {
    const end = next(start, 'month');
    const weeks = composeFromWeeks ? bucketStartsBetween(start, end, 'week', tz).filter((w) => w >= start && next(w, 'week') <= end) : [];
    const covered = new Set(weeks.flatMap((w) => daysOf(w, next(w, 'week'))));
    return { start, weeks, days: daysOf(start, end).filter((day) => !covered.has(day)) };
  });
  if (weekStarts.length === 0 && months.length === 0) return 0;
  let written = 0;

  // One week, then one month, at a time: only the rows of the bucket being merged are held
  // (weeks' results stay for the months), whatever the number of buckets of the round.
  const freshWeeks = new Map<number, RollupRow[]>();
  if (weekStarts.length > 0) {
    const weekRows: RollupRow[] = [];
    for (const week of weekStarts) {
      const dayRows = await gather(ctx, org.id, 'day', tz, freshDays, daysOf(week, next(week, 'week')));
      const rows = mergeIntoBuckets(dayRows, 'week', () => week);
      freshWeeks.set(week, rows);
      for (const row of rows) weekRows.push(row);
    }
    await input.beforeWrite();
    await ctx.rollupWriter.replaceBuckets(org.id, 'week', weekStarts, weekRows);
    written += weekStarts.length;
    if (input.tiers) {
      input.tiers.week.buckets += weekStarts.length;
      input.tiers.week.rows += weekRows.length;
    }
  }

  if (months.length > 0) {
    const monthRows: RollupRow[] = [];
    for (const month of months) {
      const inputs = await gather(ctx, org.id, 'week', tz, freshWeeks, month.weeks);
      for (const row of await gather(ctx, org.id, 'day', tz, freshDays, month.days)) inputs.push(row);
      for (const row of mergeIntoBuckets(inputs, 'month', () => month.start)) monthRows.push(row);
    }
    await input.beforeWrite();
    await ctx.rollupWriter.replaceBuckets(org.id, 'month', months.map((m) => m.start), monthRows);
    written += months.length;
    if (input.tiers) {
      input.tiers.month.buckets += months.length;
      input.tiers.month.rows += monthRows.length;
    }
  }
  return written;
}

/** Rows of the given buckets: recomputed ones from memory, the others read back in contiguous ranges. */
async function gather(
  ctx: CoarseTierDeps,
  orgId: string,
  granularity: Granularity,
  timeZone: string,
  fresh: ReadonlyMap<number, RollupRow[] | null>,
  starts: readonly number[],
): Promise<RollupRow[]> {
  const unique = [...new Set(starts)].sort(ascending);
  const rows: RollupRow[] = [];
  const missing: number[] = [];
  for (const start of unique) {
    const known = fresh.get(start);
    if (known) for (const row of known) rows.push(row);
    else missing.push(start);
  }
  for (const [from, to] of contiguousRanges(missing, granularity, timeZone)) {
    for (const row of await ctx.rollupReader.readRollups({ orgId, granularity, from, to })) rows.push(row);
  }
  return rows;
}

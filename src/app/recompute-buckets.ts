import { compileMetrics, RollupAccumulator } from '../domain/metrics/evaluate.ts';
import type { Organization } from '../domain/organization.ts';
import { retentionCutoffs } from '../domain/retention.ts';
import type { Granularity, RollupRow } from '../domain/rollup-types.ts';
import { bucketStartsBetween, floorBucket, nextBucket } from '../domain/time-buckets.ts';
import { enginePassMemory } from '../ports/pass-memory.ts';
import { rebuildCoarseTiers } from './coarse-tiers.ts';
import { emptyTierCounts, type TierCounts } from './tier-counts.ts';
import type { AppContext } from './context.ts';
import { foldSharesInParallel, parallelShares, withWriteSlot } from './parallel-days.ts';
import { contiguousRanges, mergeIntoBuckets } from './rollup-merge.ts';

/**
 * Recomputing reads raw events and hour rows and replaces whole buckets of every tier; with a
 * `dayFolder`, a backlog's days are folded on several threads (ADR 0016). Only retention is
 * read from the config, so an aggregation thread can build these deps from a share.
 */
export type RecomputeDeps = Pick<AppContext, 'eventReader' | 'rollupReader' | 'rollupWriter' | 'clock' | 'metrics' | 'log' | 'dayFolder'> & {
  config: Pick<AppContext['config'], 'retention'>;
};

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
  /** Per tier: buckets written and rows written (upserted or removed) in them. */
  tiers: TierCounts;
}

export interface RecomputeHooks {
  /** Called before every write; throws when the org's lease was lost, so nothing stale is written. */
  beforeWrite(): Promise<void>;
  /** Called after every write that `beforeWrite` let through, whether it succeeded or not. */
  afterWrite?(): void;
}

const HOUR_MS = 3_600_000;
/** Slack on the hour-retention cutoff: a pass must not trust hour rows a cleanup elsewhere may just have deleted. */
export const RETENTION_SLACK_MS = 24 * HOUR_MS;
/**
 * Pending rows that trigger a write (about two busy days of the demo data at 1M events): bounds
 * memory while keeping writes in bulk. Pending rows outlive many young-generation collections,
 * so everything held here is promoted to the old space, whose growth past what is live is what
 * a pass's peak RSS is made of (ADR 0012).
 */
/** Rows of one flush, handed to its write. */
interface PendingWrite {
  hours: number[];
  hourRows: RollupRow[];
  days: number[];
  dayRows: RollupRow[];
  /** Hour folds (ADR 0019) of the recent hours written, recorded once their rows are. */
  folds: Map<number, string>;
}

const FLUSH_ROWS = 20_000;

/** Hours of the org's current zone that overlap a mark's hour (marks of an older zone map to one or two). */
export function hoursOfMark(hourStart: number, timeZone: string): number[] {
  return floorBucket(hourStart, 'hour', timeZone) === hourStart ? [hourStart] : bucketStartsBetween(hourStart, hourStart + HOUR_MS, 'hour', timeZone);
}

/**
 * Recomputes the given hours (instants of hour starts in the org's zone) and every day,
 * week and month containing them, writing the tiers selected.
 */
export async function recomputeHours(
  ctx: RecomputeDeps,
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
  const stats: RecomputeStats = { buckets: 0, events: 0, expiredHours: 0, tiers: emptyTierCounts() };
  // Rows retention would delete are merged into coarser tiers but not written back.
  const expiry = retentionCutoffs(now, ctx.config.retention);
  const keepHourFrom = expiry.hour ?? -Infinity;
  const keepDayFrom = expiry.day ?? -Infinity;

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
  // Whole hours are rewritten from every event: their folds (ADR 0019) would say less than the
  // rows, so they go first; a pass that dies after this only folds those hours whole next time.
  // Recent hours folded here get new folds once their rows are written, so the next steady
  // pass adds only newer events to them; older hours never take the steady path.
  const foldsFrom = Math.max(hourRowsCutoff, rawCutoff, keepHourFrom);
  const shares = parallelShares(ctx, tiers, days, keepDayFrom);
  // Folding next to threads, this thread's writes take turns with theirs where the engine wants it.
  const writeHooks = shares === null ? hooks : withWriteSlot(shares.folder, hooks);
  const asWrite = async (work: () => Promise<void>): Promise<void> => {
    await writeHooks.beforeWrite();
    await work().finally(() => writeHooks.afterWrite?.());
  };
  if (tiers.hour && days.length > 0) await asWrite(() => ctx.rollupWriter.dropHourFolds(org.id, days[0]!, nextBucket(days[days.length - 1]!, 'day', tz)));

  // Weeks and months read written days back; only days this run does not write stay in memory
  // (a backfill skipping the day tier), so a long round does not hold every day it recomputed.
  const keepDays = !tiers.day && (tiers.week || tiers.month);
  const freshDays = new Map<number, RollupRow[] | null>();
  let pendingHours: number[] = [];
  let pendingHourRows: RollupRow[] = [];
  let pendingDays: number[] = [];
  let pendingDayRows: RollupRow[] = [];
  let pendingFolds = new Map<number, string>();

  const writeTier = async (granularity: 'hour' | 'day', buckets: number[], rows: RollupRow[]): Promise<void> => {
    await asWrite(() => ctx.rollupWriter.replaceBuckets(org.id, granularity, buckets, rows));
    stats.buckets += buckets.length;
    stats.tiers[granularity].buckets += buckets.length;
    stats.tiers[granularity].rows += rows.length;
  };
  const write = async (batch: PendingWrite): Promise<void> => {
    if (tiers.hour && batch.hours.length > 0) await writeTier('hour', batch.hours, batch.hourRows);
    if (tiers.day && batch.days.length > 0) await writeTier('day', batch.days, batch.dayRows);
    if (batch.folds.size > 0) await asWrite(() => ctx.rollupWriter.putHourFolds(org.id, batch.folds, foldsFrom));
  };
  // The write of one flush runs while the next days are folded: a server engine inserts while
  // Node folds (SQLite writes synchronously, so nothing overlaps there). One write at a time,
  // in order; a failed write surfaces at the next flush or at the end.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await inFlight;
    const batch: PendingWrite = { hours: pendingHours, hourRows: pendingHourRows, days: pendingDays, dayRows: pendingDayRows, folds: pendingFolds };
    pendingFolds = new Map();
    pendingHours = [];
    pendingHourRows = [];
    pendingDays = [];
    pendingDayRows = [];
    inFlight = write(batch);
    // Handled here so a failure cannot go unhandled while the fold goes on; awaited again below.
    inFlight.catch(() => undefined);
  };

  const foldInProcess = async (daysToFold: readonly number[], stop?: () => boolean): Promise<void> => {
    try {
      for (const day of daysToFold) {
        // A failed share elsewhere fails the round: folding on would only be thrown away.
        if (stop?.()) return;
        const requested = requestedByDay.get(day)!;
        const dayEnd = nextBucket(day, 'day', tz);
        if (day < rawCutoff) {
          // Part of this day's events are gone: recomputing it would overwrite a complete day with a partial one.
          stats.expiredHours += requested.size;
          continue;
        }
        const allHours = bucketStartsBetween(day, dayEnd, 'hour', tz);
        // Hour rows older than hour retention may be gone (and without the hour tier none are
        // written), so such days are recomputed whole from raw events.
        const wholeDay = !tiers.hour || day < hourRowsCutoff || requested.size >= allHours.length;
        const hours = wholeDay ? allHours : allHours.filter((h) => requested.has(h));

        const hourRows: RollupRow[] = [];
        for (const [from, to] of contiguousRanges(hours, 'hour', tz)) {
          // Folded as read: an hour can hold hundreds of thousands of events, its partials far fewer.
          const accumulator = new RollupAccumulator(compiled, hourOf, 'hour', (row) => hourRows.push(row));
          if (tiers.hour && from >= foldsFrom) {
            const read = await ctx.eventReader.forEachNewEvent(org.id, [{ from, to, after: null }], (event) => accumulator.add(event));
            stats.events += read.events;
            for (const hour of hours) if (hour >= from && hour < to) pendingFolds.set(hour, read.watermark);
          } else {
            stats.events += await ctx.eventReader.forEachEvent({ orgId: org.id, from, to }, (event) => accumulator.add(event));
          }
          accumulator.finish();
        }

        let dayInputs = hourRows;
        if (!wholeDay) {
          // The day's other hours come from their stored rows.
          const recomputed = new Set(hours);
          const others = allHours.filter((hour) => !recomputed.has(hour));
          dayInputs = hourRows.slice();
          for (const [from, to] of contiguousRanges(others, 'hour', tz)) {
            for (const row of await ctx.rollupReader.readRollups({ orgId: org.id, granularity: 'hour', from, to })) dayInputs.push(row);
          }
        }
        const dayRows = mergeIntoBuckets(dayInputs, 'day', () => day);
        if (tiers.week || tiers.month) freshDays.set(day, keepDays || day < keepDayFrom ? dayRows : null);

        // Expired buckets are still replaced, by nothing, so no stale row outlives its recomputation.
        for (const hour of hours) pendingHours.push(hour);
        for (const row of hourRows) if (row.bucketStart >= keepHourFrom) pendingHourRows.push(row);
        pendingDays.push(day);
        if (day >= keepDayFrom) for (const row of dayRows) pendingDayRows.push(row);
        if (pendingHourRows.length + pendingDayRows.length >= FLUSH_ROWS) await flush();
        // Embedded storage answers synchronously: let the server breathe between days.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await flush();
      await inFlight;
    } finally {
      // Never return (or throw) with a write still running: the caller releases the lease next.
      await inFlight.catch(() => undefined);
    }
  };

  if (shares === null) {
    await foldInProcess(days);
  } else {
    // Hour and day rows of different days are independent; weeks and months read them back below.
    await foldSharesInParallel({ folder: shares.folder, org, now, ctx, shares: shares.days, requestedByDay, hooks, stats, foldInProcess });
    if (tiers.week || tiers.month) for (const day of days) if (day >= rawCutoff && !freshDays.has(day)) freshDays.set(day, null);
  }

  if (freshDays.size > 0) {
    stats.buckets += await rebuildCoarseTiers({
      tiers: stats.tiers,
      ctx,
      org,
      freshDays,
      weeks: tiers.week,
      months: tiers.month,
      dayRowsCutoff,
      beforeWrite: hooks.beforeWrite,
    });
  }
  return stats;
}

/**
 * `recomputeHours` under the context's heap policy (ADR 0021, ADR 0029): a rebuild of whole
 * buckets promotes rows by the hundred megabytes; a steady pass holds little and runs outside it.
 */
export function rebuildWholeBuckets(
  ctx: RecomputeDeps & Pick<AppContext, 'passMemory'>,
  org: Organization,
  requestedHours: Iterable<number>,
  tiers: TierSelection,
  hooks: RecomputeHooks,
): Promise<RecomputeStats> {
  return (ctx.passMemory ?? enginePassMemory).during(() => recomputeHours(ctx, org, requestedHours, tiers, hooks));
}

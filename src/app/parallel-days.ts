import type { Organization } from '../domain/organization.ts';
import type { Granularity } from '../domain/rollup-types.ts';
import type { DayShareResult, ParallelDayFolder } from '../ports/day-folder.ts';
import type { AppContext } from './context.ts';
import type { TierCounts } from './tier-counts.ts';

/** The parts of recompute-buckets' RecomputeStats a share adds to (named here: that module imports this one). */
interface RoundStats {
  buckets: number;
  events: number;
  expiredHours: number;
  tiers: TierCounts;
}

/**
 * A full or backlog pass folds its days on several threads (ADR 0016): the hour and day tiers
 * of different days are independent, so a round's days are cut into contiguous shares; this
 * thread folds the first, the day folder the others, each writing its own hour and day rows.
 * Weeks and months are rebuilt afterwards from the days read back, as in a single-thread pass.
 */

/**
 * Fewer days than this fold in process: a share of one or two days saves less than the round
 * trips cost, and a steady pass (recent hours) never gets here with many days.
 */
export const MIN_PARALLEL_DAYS = 4;

type ParallelDeps = Pick<AppContext, 'dayFolder' | 'metrics' | 'log'> & { config: Pick<AppContext['config'], 'retention'> };

/**
 * The shares of a round (the first is this thread's), or null when the round folds in process:
 * no folder, too few days, a backfill writing only some tiers, or a day whose rows retention
 * keeps out of the day tier (such a day's rows stay in memory for the weeks and months).
 */
export function parallelShares(
  ctx: Pick<AppContext, 'dayFolder'>,
  tiers: Readonly<Record<Granularity, boolean>>,
  days: readonly number[],
  keepDayFrom: number,
): { folder: ParallelDayFolder; days: number[][] } | null {
  const folder = ctx.dayFolder;
  if (folder === undefined || folder.threads < 1) return null;
  if (!(tiers.hour && tiers.day && tiers.week && tiers.month)) return null;
  if (days.length < MIN_PARALLEL_DAYS || days[0]! < keepDayFrom) return null;
  const count = Math.min(folder.threads + 1, Math.floor(days.length / 2));
  const shares: number[][] = [];
  // Contiguous and as equal as possible: a backlog's days hold about the same number of events.
  for (let i = 0; i < count; i += 1) shares.push(days.slice(Math.round((i * days.length) / count), Math.round(((i + 1) * days.length) / count)));
  return { folder, days: shares };
}

export interface ParallelFold {
  folder: ParallelDayFolder;
  org: Organization;
  now: number;
  ctx: ParallelDeps;
  /** Days per share; the first is folded here. */
  shares: readonly (readonly number[])[];
  requestedByDay: ReadonlyMap<number, ReadonlySet<number>>;
  hooks: { beforeWrite(): Promise<void> };
  /** Totals of the whole round; every share's counts are added. */
  stats: RoundStats;
  /** Folds and writes days on this thread (stops between days when `stop` says so). */
  foldInProcess(days: readonly number[], stop: () => boolean): Promise<void>;
}

/**
 * Runs every share to its end, success or not, before returning: the caller releases the org
 * lease next, and no share may still be writing then. The first failure is rethrown (its
 * round's marks stay for the next pass); a failed share stops this thread's share early.
 */
export async function foldSharesInParallel(input: ParallelFold): Promise<void> {
  const { folder, org, now, ctx, stats } = input;
  const [own = [], ...others] = input.shares;
  let failed = false;
  const remote = others.map((days) => {
    const hours = days.flatMap((day) => [...input.requestedByDay.get(day)!]);
    const share = folder.foldDays({ org, hours, now, retention: ctx.config.retention, metrics: ctx.metrics }, input.hooks.beforeWrite);
    share.catch(() => {
      failed = true;
    });
    return share;
  });
  let ownFailure: { error: unknown } | null = null;
  try {
    await input.foldInProcess(own, () => failed);
  } catch (error) {
    ownFailure = { error };
  }
  const settled = await Promise.allSettled(remote);
  if (ownFailure !== null) throw ownFailure.error;
  for (const outcome of settled) {
    if (outcome.status === 'rejected') throw outcome.reason;
    addShare(stats, outcome.value);
  }
  ctx.log.debug({ orgId: org.id, days: input.shares.map((days) => days.length) }, 'round folded on aggregation threads (days per share)');
}

/**
 * This thread's write hooks while shares fold elsewhere: each write first waits for the write
 * slot (asynchronously: the fold goes on meanwhile), then checks the lease, and frees the slot
 * when it is done.
 */
export function withWriteSlot(
  folder: ParallelDayFolder,
  hooks: { beforeWrite(): Promise<void>; afterWrite?(): void },
): { beforeWrite(): Promise<void>; afterWrite(): void } {
  let release: (() => void) | null = null;
  const free = () => {
    release?.();
    release = null;
  };
  return {
    async beforeWrite() {
      release = await folder.writeSlot();
      try {
        await hooks.beforeWrite();
      } catch (error) {
        free();
        throw error;
      }
    },
    afterWrite() {
      free();
      hooks.afterWrite?.();
    },
  };
}

function addShare(stats: RoundStats, share: DayShareResult): void {
  stats.events += share.events;
  stats.expiredHours += share.expiredHours;
  stats.buckets += share.hour.buckets + share.day.buckets;
  stats.tiers.hour.buckets += share.hour.buckets;
  stats.tiers.hour.rows += share.hour.rows;
  stats.tiers.day.buckets += share.day.buckets;
  stats.tiers.day.rows += share.day.rows;
}

import type { Organization } from '../domain/organization.ts';
import { floorBucket } from '../domain/time-buckets.ts';
import type { DirtyMark } from '../ports/storage.ts';
import type { AppContext } from './context.ts';
import { OrgLease, type LeaseWaiter } from './org-lease.ts';
import { MAX_INCREMENTAL_HOURS, recomputeHoursIncrementally } from './incremental-tiers.ts';
import { PassGate } from './pass-gate.ts';
import { ALL_TIERS, hoursOfMark, rebuildWholeBuckets, type RecomputeDeps, type RecomputeStats } from './recompute-buckets.ts';
import { addTierCounts, emptyTierCounts, type TierCounts } from './tier-counts.ts';

/** The aggregation pass: dirty queue, org lease, recompute (raw events → every tier), data versions. */
export type AggregationDeps = RecomputeDeps & Pick<AppContext, 'config' | 'orgStore' | 'dirtyQueue' | 'leaseStore' | 'dataVersions' | 'telemetry' | 'jobHealth' | 'passMemory'>;

/** Answer of one pass (also the body of POST /api/v1/admin/aggregate). */
export interface AggregateResult {
  /** Rollup buckets rewritten, all tiers together. */
  buckets: number;
  /** Raw events read: those stored since each dirty hour's last fold, or every event of hours folded whole (ADR 0019). */
  events: number;
  duration_ms: number;
  /** Organizations aggregated by this pass. */
  orgs: number;
  /** Organizations left to the worker that holds their lease. */
  skipped: string[];
  /** Per tier: buckets written and rows written in them (a steady pass writes only changed rows, ADR 0007). */
  tiers?: TierCounts;
}

export interface AggregationFailure {
  orgId: string;
  message: string;
}

/** A pass in which at least one organization failed; its marks stay, so the next pass retries. */
export class AggregationError extends Error {
  constructor(
    readonly result: AggregateResult,
    readonly failures: AggregationFailure[],
  ) {
    super(`aggregation failed for ${failures.length} organization(s): ${failures.map((f) => `${f.orgId}: ${f.message}`).join('; ')}`);
    this.name = 'AggregationError';
  }
}

export interface AggregateOptions {
  /** Only this organization. */
  orgId?: string;
  /** Wait up to this long for an organization leased by another worker instead of skipping it. */
  waitForLeaseMs?: number;
  /** How that wait passes time; real time when absent (tests inject one). */
  leaseWaiter?: LeaseWaiter;
  /**
   * Rebuild whole buckets even where a steady pass could update rows (ADR 0007): backfill
   * uses it so it repairs drift and rewrites pre-pack rows (ADR 0006) whatever its size.
   */
  wholeBuckets?: boolean;
}

/** Job health of idle passes is written at most this often (per store, in this process). */
const IDLE_RECORD_EVERY_MS = 60_000;
const idleRecordedAt = new WeakMap<object, number>();

/**
 * Marks listed per round: two months of hours. A round rebuilds every week and month containing
 * its days, reading back the days it did not recompute, so rounds much shorter than a month
 * rebuilt each month of a backlog several times (a 30-day backlog in 8-day rounds: 4 times).
 * A round keeps no day in memory once written (coarse tiers read days back), so its size does
 * not bound memory; it bounds the work a killed pass repeats (ADR 0002, ADR 0012).
 */
export const MARKS_PER_ROUND = 24 * 62;
/** Bounds one pass when ingest keeps re-marking hours faster than they are recomputed. */
const MAX_ROUNDS = 1_000;

/**
 * One aggregation pass (SPEC §3): for every organization with dirty hours, under its lease,
 * recompute the marked hours from raw events and the day/week/month buckets containing them,
 * then clear exactly the marks it listed (a mark re-set meanwhile survives). A pass with
 * nothing to do is one query. Failures are logged, counted and rethrown after the other
 * organizations ran; their marks stay for the next pass.
 */
export async function aggregateDirtyBuckets(ctx: AggregationDeps, options: AggregateOptions = {}): Promise<AggregateResult> {
  const started = ctx.clock.now();
  const wallStart = performance.now();
  const dirty = await ctx.dirtyQueue.dirtyOrgs();
  const orgIds = options.orgId === undefined ? dirty : dirty.filter((id) => id === options.orgId);
  const result: AggregateResult = { buckets: 0, events: 0, duration_ms: 0, orgs: 0, skipped: [], tiers: emptyTierCounts() };
  const failures: AggregationFailure[] = [];

  const outcomes = await eachOrg(ctx, orgIds, options);
  for (const [index, orgId] of orgIds.entries()) {
    const outcome = outcomes[index]!;
    if (!outcome.ok) {
      const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      failures.push({ orgId, message });
      ctx.log.error({ orgId, err: outcome.error }, 'aggregation failed for organization');
      continue;
    }
    const stats = outcome.stats;
    if (stats === null) {
      result.skipped.push(orgId);
      continue;
    }
    result.orgs += 1;
    result.buckets += stats.buckets;
    result.events += stats.events;
    addTierCounts(result.tiers!, stats.tiers);
  }

  result.duration_ms = Math.round(performance.now() - wallStart);
  const finishedAt = Math.max(started, ctx.clock.now());
  ctx.telemetry.aggregationRun({ ok: failures.length === 0, durationSeconds: result.duration_ms / 1000, records: result.events, finishedAt });
  // Shared with every process's /metrics (job health lives in the database, not in this process).
  // An idle pass records itself at most once a minute, so that it stays one cheap read.
  const idle = orgIds.length === 0;
  const lastIdleRecord = idleRecordedAt.get(ctx.jobHealth);
  if (!idle || lastIdleRecord === undefined || finishedAt - lastIdleRecord >= IDLE_RECORD_EVERY_MS || finishedAt < lastIdleRecord) {
    await ctx.jobHealth
      .recordJobRun({ job: 'aggregate', ok: failures.length === 0, finishedAt, durationMs: result.duration_ms, records: result.events })
      .then(() => void (idle ? idleRecordedAt.set(ctx.jobHealth, finishedAt) : idleRecordedAt.delete(ctx.jobHealth)))
      .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not record the aggregation pass in job health'));
  }
  if (failures.length > 0) throw new AggregationError(result, failures);
  if (result.buckets > 0 || result.skipped.length > 0) ctx.log.info({ ...result }, 'aggregation pass');
  return result;
}

type OrgOutcome = { ok: true; stats: RecomputeStats | null } | { ok: false; error: unknown };

/**
 * Every organization's marks drained, `dirtyQueue.orgsAtOnce` organizations at a time: on a
 * server engine one organization's round trips overlap another's folding (a steady pass of
 * three organizations on PostgreSQL waits for the database for a third of its time, one
 * organization after another). An organization with a backlog runs alone (PassGate), so a pass
 * never holds two months of rows; it waits for its turn before taking its lease, which another
 * worker may take meanwhile. Outcomes in the order of `orgIds`; a failure stops only its organization.
 */
async function eachOrg(ctx: AggregationDeps, orgIds: readonly string[], options: AggregateOptions): Promise<OrgOutcome[]> {
  const outcomes = new Array<OrgOutcome>(orgIds.length);
  const runners = Math.max(1, Math.min(ctx.dirtyQueue.orgsAtOnce, orgIds.length));
  const gate = new PassGate();
  const drain = async (orgId: string): Promise<RecomputeStats | null> => {
    if (runners === 1) return aggregateOrg(ctx, orgId, options);
    // Listing does not claim (the lease does): a look at how many hours wait, before the turn.
    const heavy = options.wholeBuckets === true || (await ctx.dirtyQueue.listDirty(orgId, MAX_INCREMENTAL_HOURS + 1)).length > MAX_INCREMENTAL_HOURS;
    return gate.run(heavy, () => aggregateOrg(ctx, orgId, options));
  };
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < orgIds.length) {
      const index = next++;
      try {
        outcomes[index] = { ok: true, stats: await drain(orgIds[index]!) };
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: runners }, runner));
  return outcomes;
}

/** Drains one organization's marks under its lease; null when another worker holds the lease. */
async function aggregateOrg(ctx: AggregationDeps, orgId: string, options: AggregateOptions): Promise<RecomputeStats | null> {
  const lease = new OrgLease(ctx, orgId, { waiter: options.leaseWaiter });
  if (!(await lease.acquire(options.waitForLeaseMs ?? 0))) return null;
  const total: RecomputeStats = { buckets: 0, events: 0, expiredHours: 0, tiers: emptyTierCounts() };
  let wrote = false;
  const beforeWrite = async (): Promise<void> => {
    await lease.keepAlive();
    wrote = true;
  };
  try {
    // Read after taking the lease: a time-zone change waits for this lease before rebuilding.
    const org = await ctx.orgStore.getOrg(orgId);
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const listed = await ctx.dirtyQueue.listDirty(orgId, MARKS_PER_ROUND);
      if (listed.length === 0) break;
      const more = listed.length === MARKS_PER_ROUND;
      const marks = more && org !== null ? wholeMonthsOf(listed, org.timezone) : listed;
      if (org === null) {
        ctx.log.warn({ orgId, marks: marks.length }, 'dirty marks of an unknown organization dropped');
        await ctx.dirtyQueue.clearDirty(marks);
        continue;
      }
      const stats = await recomputeMarks(ctx, org, marks, beforeWrite, options.wholeBuckets ?? false);
      total.buckets += stats.buckets;
      total.events += stats.events;
      total.expiredHours += stats.expiredHours;
      addTierCounts(total.tiers, stats.tiers);
      // Only after the rollups are committed: a pass killed before this point loses nothing.
      await lease.keepAlive();
      await ctx.dirtyQueue.clearDirty(marks);
      if (!more) break;
    }
    if (total.expiredHours > 0) {
      ctx.log.warn({ orgId, hours: total.expiredHours }, 'dirty hours older than raw-event retention were not recomputed');
    }
    return total;
  } finally {
    try {
      // Even after a failure part of the rollups may be rewritten: cached answers must go.
      if (wrote) await ctx.dataVersions.bumpDataVersion(orgId);
    } finally {
      await lease.release();
    }
  }
}

/**
 * A full list of marks (sorted by hour) cut before its last month: that month's other marks
 * are probably not listed yet, and the next round rebuilds it anyway, so this round leaves it
 * whole to that round and each month of a backlog is rebuilt once. All marks when they lie in
 * one month.
 */
export function wholeMonthsOf(marks: readonly DirtyMark[], timeZone: string): readonly DirtyMark[] {
  const lastMonth = floorBucket(marks[marks.length - 1]!.hourStart, 'month', timeZone);
  let end = marks.length;
  while (end > 0 && marks[end - 1]!.hourStart >= lastMonth) end -= 1;
  return end === 0 ? marks : marks.slice(0, end);
}

async function recomputeMarks(
  ctx: AggregationDeps,
  org: Organization,
  marks: readonly DirtyMark[],
  beforeWrite: () => Promise<void>,
  wholeBuckets: boolean,
): Promise<RecomputeStats> {
  const hours = new Set<number>();
  // Hours folded again from all their events (ADR 0019): the mark says so, or it was set in an
  // older time zone (its events may fall into two hours of this one).
  const refold = new Set<number>();
  for (const mark of marks) {
    const markHours = hoursOfMark(mark.hourStart, org.timezone);
    for (const hour of markHours) {
      hours.add(hour);
      if (mark.refold || markHours[0] !== mark.hourStart) refold.add(hour);
    }
  }
  // Recent hours: only the changed rows travel up (ADR 0007); older ones rebuild whole buckets.
  const steady = wholeBuckets ? null : await recomputeHoursIncrementally(ctx, org, hours, { beforeWrite }, refold);
  return steady ?? rebuildWholeBuckets(ctx, org, hours, ALL_TIERS, { beforeWrite });
}

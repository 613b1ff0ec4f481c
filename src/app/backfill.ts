import { NotFoundError, UnavailableError, ValidationError } from '../domain/errors.ts';
import type { Organization } from '../domain/organization.ts';
import type { Granularity } from '../domain/rollup-types.ts';
import { bucketStartsBetween, floorBucket, nextBucket, startOfLocalDate } from '../domain/time-buckets.ts';
import { aggregateDirtyBuckets, type AggregateResult, type AggregationDeps } from './aggregate.ts';
import type { AppContext } from './context.ts';
import { OrgLease } from './org-lease.ts';
import { rebuildWholeBuckets, type TierSelection } from './recompute-buckets.ts';

export interface BackfillProgress {
  orgId: string;
  /** Hour buckets recomputed so far, over all organizations. */
  done: number;
  total: number;
}

/** An instant, or a bare date: the start of that day in each organization's own zone. */
export type RangeBound = number | { localDate: string };

function instantOf(bound: RangeBound, timeZone: string): number {
  return typeof bound === 'number' ? bound : startOfLocalDate(bound.localDate, timeZone);
}

export interface BackfillInput {
  orgId?: string;
  /** [from, to), widened to whole local days of each organization. */
  from: RangeBound;
  to: RangeBound;
  dryRun?: boolean;
  skip?: Partial<Record<'hourly' | 'daily' | 'weekly' | 'monthly', boolean>>;
  onProgress?: (progress: BackfillProgress) => void;
  /** How long to wait for an organization another worker is aggregating. */
  waitForLeaseMs?: number;
}

export interface BackfillResult {
  dryRun: boolean;
  orgs: number;
  /** Buckets per tier rewritten (or that a dry run would rewrite); 0 for a skipped tier. */
  buckets: Record<Granularity, number>;
  /** Days left alone because their raw events are partly past retention. */
  expiredDays: number;
  events: number;
  duration_ms: number;
}

/** Days recomputed per chunk: progress granularity, and what a re-run after an interruption redoes at most per org. */
const CHUNK_DAYS = 7;
const DEFAULT_LEASE_WAIT_MS = 10 * 60_000;

interface OrgPlan {
  org: Organization;
  days: number[];
  expiredDays: number;
}

function planOrg(ctx: Pick<AppContext, 'clock' | 'config'>, org: Organization, fromBound: RangeBound, toBound: RangeBound): OrgPlan {
  const tz = org.timezone;
  const from = instantOf(fromBound, tz);
  const to = instantOf(toBound, tz);
  if (!(from < to)) throw ValidationError.field('from', 'must be before "to"');
  const now = ctx.clock.now();
  // Nothing can exist after today; days whose raw events are partly deleted cannot be rebuilt.
  const end = Math.min(to, nextBucket(floorBucket(now, 'day', tz), 'day', tz));
  const rawCutoff = now - ctx.config.retention.rawMs;
  const all = bucketStartsBetween(from, end, 'day', tz);
  const days = all.filter((day) => day >= rawCutoff);
  return { org, days, expiredDays: all.length - days.length };
}

function hoursOf(days: readonly number[], timeZone: string): number[] {
  return days.flatMap((day) => bucketStartsBetween(day, nextBucket(day, 'day', timeZone), 'hour', timeZone));
}

function countBuckets(plans: readonly OrgPlan[], tiers: TierSelection): Record<Granularity, number> {
  const buckets: Record<Granularity, number> = { hour: 0, day: 0, week: 0, month: 0 };
  for (const { org, days } of plans) {
    const tz = org.timezone;
    buckets.hour += hoursOf(days, tz).length;
    buckets.day += days.length;
    buckets.week += new Set(days.map((day) => floorBucket(day, 'week', tz))).size;
    buckets.month += new Set(days.map((day) => floorBucket(day, 'month', tz))).size;
  }
  for (const tier of Object.keys(buckets) as Granularity[]) if (!tiers[tier]) buckets[tier] = 0;
  return buckets;
}

/**
 * Recomputes every bucket of a date range from raw events, in chunks of days. Without tier
 * skips a chunk is first marked dirty and then drained like any pass, so an interrupted
 * backfill leaves marks that the next pass (or a re-run) completes. With skips, chunks are
 * recomputed directly under the organization's lease and only the selected tiers written;
 * re-running is always safe because every bucket is replaced whole.
 */
export async function backfill(ctx: AggregationDeps, input: BackfillInput): Promise<BackfillResult> {
  const wallStart = performance.now();
  const orgs = input.orgId === undefined ? await ctx.orgStore.listOrgs() : [await requireOrg(ctx, input.orgId)];
  const plans = orgs.map((org) => planOrg(ctx, org, input.from, input.to));
  const skip = input.skip ?? {};
  const tiers: TierSelection = { hour: !skip.hourly, day: !skip.daily, week: !skip.weekly, month: !skip.monthly };
  const buckets = countBuckets(plans, tiers);
  const expiredDays = plans.reduce((n, plan) => n + plan.expiredDays, 0);
  const result: BackfillResult = { dryRun: input.dryRun ?? false, orgs: orgs.length, buckets, expiredDays, events: 0, duration_ms: 0 };
  if (input.dryRun) {
    result.duration_ms = Math.round(performance.now() - wallStart);
    return result;
  }

  const allTiers = tiers.hour && tiers.day && tiers.week && tiers.month;
  // Progress counts hours of the range walked, whichever tiers are written.
  const total = plans.reduce((n, { org, days }) => n + hoursOf(days, org.timezone).length, 0);
  let done = 0;
  const waitMs = input.waitForLeaseMs ?? DEFAULT_LEASE_WAIT_MS;

  for (const { org, days } of plans) {
    const progress = (hours: number) => {
      done = Math.min(total, done + hours);
      input.onProgress?.({ orgId: org.id, done, total });
    };
    for (let i = 0; i < days.length; i += CHUNK_DAYS) {
      const hours = hoursOf(days.slice(i, i + CHUNK_DAYS), org.timezone);
      if (allTiers) {
        await ctx.dirtyQueue.markDirty(org.id, hours);
        const pass = await drainOrg(ctx, org.id, waitMs);
        result.events += pass.events;
      } else {
        result.events += (await recomputeUnderLease(ctx, org, hours, tiers, waitMs)).events;
      }
      progress(hours.length);
    }
  }
  result.duration_ms = Math.round(performance.now() - wallStart);
  ctx.log.info({ ...result }, 'backfill finished');
  return result;
}

async function requireOrg(ctx: Pick<AppContext, 'orgStore'>, orgId: string): Promise<Organization> {
  const org = await ctx.orgStore.getOrg(orgId);
  if (!org) throw new NotFoundError(`organization "${orgId}" not found`);
  return org;
}

async function drainOrg(ctx: AggregationDeps, orgId: string, waitMs: number): Promise<AggregateResult> {
  const pass = await aggregateDirtyBuckets(ctx, { orgId, waitForLeaseMs: waitMs, wholeBuckets: true });
  if (pass.skipped.includes(orgId)) {
    throw new UnavailableError(`organization "${orgId}" stayed leased by another worker; its marks remain and any later pass completes them`);
  }
  return pass;
}

async function recomputeUnderLease(ctx: AggregationDeps, org: Organization, hours: number[], tiers: TierSelection, waitMs: number) {
  const lease = new OrgLease(ctx, org.id);
  await lease.acquireOrThrow(waitMs);
  try {
    // Re-read under the lease: the zone may have changed since the plan was made.
    const current = await requireOrg(ctx, org.id);
    if (current.timezone !== org.timezone) throw new UnavailableError(`time zone of "${org.id}" changed during backfill; run it again`);
    return await rebuildWholeBuckets(ctx, current, hours, tiers, { beforeWrite: () => lease.keepAlive() });
  } finally {
    try {
      await ctx.dataVersions.bumpDataVersion(org.id);
    } finally {
      await lease.release();
    }
  }
}

/**
 * `meterboard aggregate [--from --to] [--org]`: without a range, one pass over the dirty
 * marks; with one, a backfill of that range with every tier.
 */
export async function aggregateRange(
  ctx: AggregationDeps,
  input: { from?: RangeBound; to?: RangeBound; orgId?: string; onProgress?: (progress: BackfillProgress) => void },
): Promise<AggregateResult | BackfillResult> {
  if (input.from === undefined && input.to === undefined) {
    return aggregateDirtyBuckets(ctx, { orgId: input.orgId, waitForLeaseMs: DEFAULT_LEASE_WAIT_MS });
  }
  const now = ctx.clock.now();
  const from = input.from ?? now - ctx.config.retention.rawMs;
  const to = input.to ?? now;
  return backfill(ctx, { from, to, orgId: input.orgId, onProgress: input.onProgress });
}

import { NotFoundError } from '../domain/errors.ts';
import type { Organization } from '../domain/organization.ts';
import { bucketStartsBetween, floorBucket, nextBucket } from '../domain/time-buckets.ts';
import { aggregateDirtyBuckets, type AggregateResult, type AggregationDeps } from './aggregate.ts';
import type { AppContext } from './context.ts';
import { OrgLease } from './org-lease.ts';

/** Resetting deletes every rollup of the org under its lease and marks its event range dirty. */
type ResetDeps = Pick<AppContext, 'orgStore' | 'eventReader' | 'rollupWriter' | 'dirtyQueue' | 'dataVersions' | 'leaseStore' | 'clock' | 'log'>;

const LEASE_WAIT_MS = 10 * 60_000;
const MARK_BATCH = 5_000;

/**
 * After a time-zone change every bucket boundary of the organization moved: its rollups are
 * deleted and every hour holding events (in the new zone) is marked dirty, then a pass
 * rebuilds them. Both steps happen under the aggregation lease, so no pass that read the
 * old zone can write after the delete. Buckets whose raw events are past retention cannot
 * be rebuilt and stay empty.
 */
export async function rebuildOrg(ctx: AggregationDeps, orgId: string): Promise<AggregateResult> {
  await resetOrgRollups(ctx, orgId);
  return rebuildPass(ctx, orgId);
}

/** The rebuild's second half: drains the organization's marks, waiting for a pass that holds its lease. */
export function rebuildPass(ctx: AggregationDeps, orgId: string): Promise<AggregateResult> {
  return aggregateDirtyBuckets(ctx, { orgId, waitForLeaseMs: LEASE_WAIT_MS });
}

/** Deletes the organization's rollups and marks every hour holding events dirty, under its lease. */
export async function resetOrgRollups(ctx: ResetDeps, orgId: string): Promise<number> {
  const lease = new OrgLease(ctx, orgId);
  await lease.acquireOrThrow(LEASE_WAIT_MS);
  let marked = 0;
  try {
    const org = await ctx.orgStore.getOrg(orgId);
    if (!org) throw new NotFoundError(`organization "${orgId}" not found`);
    const range = await ctx.eventReader.eventTimestampsRange(orgId);
    // Marks first: if the delete then fails, the next pass still rebuilds everything.
    if (range !== null) marked = await markRange(ctx, org, range.min, range.max + 1);
    await ctx.rollupWriter.deleteAllRollups(orgId);
    await ctx.dataVersions.bumpDataVersion(orgId);
  } finally {
    await lease.release();
  }
  ctx.log.info({ orgId, hours: marked }, 'rollups deleted for a rebuild');
  return marked;
}

/** Marks every hour of the whole local days spanning [from, to); returns how many. */
async function markRange(ctx: Pick<AppContext, 'dirtyQueue'>, org: Organization, from: number, to: number): Promise<number> {
  const tz = org.timezone;
  const end = nextBucket(floorBucket(to - 1, 'day', tz), 'day', tz);
  const hours = bucketStartsBetween(floorBucket(from, 'day', tz), end, 'hour', tz);
  for (let i = 0; i < hours.length; i += MARK_BATCH) {
    await ctx.dirtyQueue.markDirty(org.id, hours.slice(i, i + MARK_BATCH));
  }
  return hours.length;
}

/** Matches manage-orgs' OnTimezoneChanged hook. */
export async function onTimezoneChanged(ctx: AggregationDeps, org: Organization): Promise<void> {
  await rebuildOrg(ctx, org.id);
}

/**
 * The HTTP hook: the old-zone rollups are gone and the hours marked before the PATCH answers;
 * the rebuild itself runs in the background (and any scheduled pass would also pick it up),
 * so a large organization does not hold the request open. `runPass` wraps the pass (the
 * composition root evaluates the organization's alert rules after it).
 */
export async function onTimezoneChangedInBackground(
  ctx: AggregationDeps,
  org: Organization,
  runPass: (pass: () => Promise<AggregateResult>) => Promise<AggregateResult> = (pass) => pass(),
): Promise<void> {
  await resetOrgRollups(ctx, org.id);
  void runPass(() => rebuildPass(ctx, org.id)).catch((error: unknown) =>
    ctx.log.error({ orgId: org.id, err: error }, 'background rebuild after a time-zone change failed; the next scheduled pass retries'),
  );
}

/**
 * The server-mode hook: the same reset before the PATCH answers, then the rebuild pass is
 * queued for a worker (`enqueue` submits the run-now job) instead of running in the API process.
 */
export function onTimezoneChangedQueued(enqueue: (orgId: string) => Promise<unknown>) {
  return async (ctx: ResetDeps, org: Organization): Promise<void> => {
    await resetOrgRollups(ctx, org.id);
    void enqueue(org.id).catch((error: unknown) =>
      ctx.log.error({ orgId: org.id, err: error }, 'queued rebuild after a time-zone change failed; the next scheduled pass retries'),
    );
  };
}

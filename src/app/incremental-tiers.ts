import { compileMetrics, RollupAccumulator } from '../domain/metrics/evaluate.ts';
import type { Organization } from '../domain/organization.ts';
import { applyContribution, contributionOf, samePartial, type Contribution } from '../domain/rollup-delta.ts';
import { mergeAllPartials, mergePartials } from '../domain/rollup-math.ts';
import { rollupRow, type Granularity, type RollupKey, type RollupPartial, type RollupRow } from '../domain/rollup-types.ts';
import { floorBucket, nextBucket } from '../domain/time-buckets.ts';
import type { FoldRange } from '../ports/storage.ts';
import { RETENTION_SLACK_MS, type RecomputeDeps, type RecomputeHooks, type RecomputeStats } from './recompute-buckets.ts';
import { emptyTierCounts, type TierCounts } from './tier-counts.ts';
import { remergeRow, type Overlay } from './remerge-row.ts';
import { contiguousRanges, seriesKey } from './rollup-merge.ts';

/**
 * The steady pass (ADR 0007): dirty hours are recomputed from raw events as always (ADR 0001),
 * compared row by row with their stored rows, and only the rows that changed travel up: each
 * containing day, week and month row of a changed key becomes `stored − before + after`
 * (domain/rollup-delta.ts), read and written by primary key. Where that cannot be exact (a
 * removed event held a minimum, a distinct value vanished) that one row is re-merged from its
 * finer rows. Everything — hours and coarse rows — is written in one transaction, so the
 * stored tiers stay consistent with each other, which the next delta relies on.
 *
 * The cost follows the keys the new events touch, not the size of the weeks and months they
 * fall in. Returns null when the hours are not eligible (more than MAX_INCREMENTAL_HOURS, older
 * than hour-row retention, or in a week or month past day retention): the caller then rebuilds
 * whole buckets.
 */

const COARSE: readonly Granularity[] = ['day', 'week', 'month'];
/**
 * Above this many dirty hours in a round (a backlog, a backfill-sized late batch) nearly every
 * row of the weeks and months changes anyway, and rebuilding whole buckets with range reads is
 * cheaper than three point reads per changed row.
 */
export const MAX_INCREMENTAL_HOURS = 72;
const ascending = (a: number, b: number) => a - b;

interface Change {
  hour: number;
  key: string;
  before: RollupRow | undefined;
  after: RollupRow | undefined;
}

interface ChangeGroup {
  key: RollupKey;
  contribution: Contribution;
}

/** The changes of one series key over the dirty hours, in hour order, with their merge once computed. */
interface KeyChanges {
  changes: Change[];
  merged?: Contribution;
}

function byKey(changes: readonly Change[]): Map<string, KeyChanges> {
  const out = new Map<string, KeyChanges>();
  for (const change of changes) {
    const found = out.get(change.key);
    if (found === undefined) out.set(change.key, { changes: [change] });
    else found.changes.push(change);
  }
  return out;
}

function mergeChanges(changes: readonly Change[]): Contribution {
  const before: RollupPartial[] = [];
  const after: RollupPartial[] = [];
  for (const change of changes) {
    if (change.before) before.push(change.before);
    if (change.after) after.push(change.after);
  }
  // One contribution for the day, week and month: what does not depend on their stored rows is worked out once.
  return contributionOf(mergedOrNone(before), mergedOrNone(after));
}

/**
 * The changes of the dirty hours, per containing bucket of `granularity` and series key. A key
 * whose dirty hours all fall in one bucket (the usual case) merges them once for every tier.
 */
function groupChanges(keys: ReadonlyMap<string, KeyChanges>, granularity: Granularity, bucketOfHour: ReadonlyMap<number, number>): Map<number, Map<string, ChangeGroup>> {
  const groups = new Map<number, Map<string, ChangeGroup>>();
  const add = (bucket: number, key: string, template: RollupRow, contribution: Contribution) => {
    let inBucket = groups.get(bucket);
    if (inBucket === undefined) groups.set(bucket, (inBucket = new Map()));
    inBucket.set(key, { key: keyIn(template, granularity, bucket), contribution });
  };
  for (const [key, keyChanges] of keys) {
    const { changes } = keyChanges;
    const template = (changes[0]!.after ?? changes[0]!.before)!;
    const first = bucketOfHour.get(changes[0]!.hour)!;
    if (changes.every((change) => bucketOfHour.get(change.hour) === first)) {
      add(first, key, template, (keyChanges.merged ??= mergeChanges(changes)));
      continue;
    }
    const perBucket = new Map<number, Change[]>();
    for (const change of changes) {
      const bucket = bucketOfHour.get(change.hour)!;
      const list = perBucket.get(bucket);
      if (list === undefined) perBucket.set(bucket, [change]);
      else list.push(change);
    }
    for (const [bucket, list] of perBucket) add(bucket, key, template, mergeChanges(list));
  }
  return groups;
}

/** A single partial as it is (most keys change in one dirty hour), several merged. */
function mergedOrNone(partials: readonly RollupPartial[]): RollupPartial | undefined {
  if (partials.length === 0) return undefined;
  return partials.length === 1 ? partials[0] : mergeAllPartials(partials);
}

function rowOf(key: RollupKey, p: RollupPartial): RollupRow {
  return rollupRow(key.orgId, key.granularity, key.bucketStart, key.metric, key.project, key.tag, key.dimName, key.dimValue, p);
}

function byTierBucketAndKey(rows: Iterable<RollupRow>): Map<Granularity, Map<number, Map<string, RollupRow>>> {
  const out = new Map<Granularity, Map<number, Map<string, RollupRow>>>();
  for (const row of rows) {
    let inTier = out.get(row.granularity);
    if (inTier === undefined) out.set(row.granularity, (inTier = new Map()));
    let inBucket = inTier.get(row.bucketStart);
    if (inBucket === undefined) inTier.set(row.bucketStart, (inBucket = new Map()));
    inBucket.set(seriesKey(row), row);
  }
  return out;
}

function keyIn(row: RollupKey, granularity: Granularity, bucketStart: number): RollupKey {
  return { orgId: row.orgId, granularity, bucketStart, metric: row.metric, project: row.project, tag: row.tag, dimName: row.dimName, dimValue: row.dimValue };
}

function byBucketAndKey(rows: Iterable<RollupRow>): Map<number, Map<string, RollupRow>> {
  const out = new Map<number, Map<string, RollupRow>>();
  for (const row of rows) {
    let inBucket = out.get(row.bucketStart);
    if (inBucket === undefined) out.set(row.bucketStart, (inBucket = new Map()));
    inBucket.set(seriesKey(row), row);
  }
  return out;
}

export async function recomputeHoursIncrementally(
  ctx: RecomputeDeps,
  org: Organization,
  requestedHours: Iterable<number>,
  hooks: RecomputeHooks,
  refold: ReadonlySet<number> = new Set(),
): Promise<RecomputeStats | null> {
  const tz = org.timezone;
  const now = ctx.clock.now();
  const { retention } = ctx.config;
  const oldestDay = Math.max(now - retention.hourMs + RETENTION_SLACK_MS, now - retention.rawMs);
  const dayRowsCutoff = now - retention.dayMs + RETENTION_SLACK_MS;
  const hours = [...new Set(requestedHours)].sort(ascending);
  if (hours.length > MAX_INCREMENTAL_HOURS) return null;
  const bucketOf = memoBuckets(tz);
  for (const hour of hours) {
    // Old hours may have lost their hour rows or raw events; months past day retention are left alone.
    if (bucketOf(hour, 'day') < oldestDay || bucketOf(hour, 'month') < dayRowsCutoff || bucketOf(hour, 'week') < dayRowsCutoff) return null;
  }
  const stats: RecomputeStats = { buckets: 0, events: 0, expiredHours: 0, tiers: emptyTierCounts() };
  if (hours.length === 0) return stats;

  // 1. The dirty hours: their new events folded onto the stored rows where the hour has a fold
  // (ADR 0019), otherwise folded whole from raw events; and as stored.
  // The stored rows are read while the new events are folded: nothing but this pass (it holds the
  // org's lease) writes them, and a server engine answers the read during the fold.
  const storedRead = Promise.all(contiguousRanges(hours, 'hour', tz).map(([from, to]) => ctx.rollupReader.readRollups({ orgId: org.id, granularity: 'hour', from, to })));
  // Awaited below; a failure of the fold must not leave it unhandled.
  storedRead.catch(() => undefined);
  const folds = await ctx.rollupWriter.takeHourFolds(org.id, hours);
  const { fresh, events, watermark } = await foldDirtyHours(ctx, org, hours, (hour) => (refold.has(hour) ? null : (folds.get(hour) ?? null)));
  stats.events = events;
  const stored = byBucketAndKey((await storedRead).flat());
  // Hours as folded, or as stored: the pass's folds once its rows are written.
  const putFolds = () => ctx.rollupWriter.putHourFolds(org.id, new Map(hours.map((hour) => [hour, watermark])), oldestDay);

  // 2. What changed, key by key.
  const upserts: RollupRow[] = [];
  const deletes: RollupKey[] = [];
  const changes: Change[] = [];
  const hourOverlay: Overlay = new Map();
  for (const hour of hours) {
    const folded = fresh.get(hour);
    const was = stored.get(hour) ?? new Map<string, RollupRow>();
    const overlay = new Map<string, RollupRow | null>();
    if (folded?.added === true) {
      // Only the keys the new events touched can change; the others keep their stored rows.
      for (const [key, added] of folded.rows) {
        const before = was.get(key);
        const after = before === undefined ? added : rowOf(added, mergePartials(before, added));
        if (before !== undefined && samePartial(before, after)) continue;
        changes.push({ hour, key, before, after });
        upserts.push(after);
        overlay.set(key, after);
      }
    } else {
      const is = folded?.rows ?? new Map<string, RollupRow>();
      for (const [key, after] of is) {
        const before = was.get(key);
        if (before !== undefined && samePartial(before, after)) continue;
        changes.push({ hour, key, before, after });
        upserts.push(after);
        overlay.set(key, after);
      }
      for (const [key, before] of was) {
        if (is.has(key)) continue;
        changes.push({ hour, key, before, after: undefined });
        deletes.push(keyIn(before, 'hour', hour));
        overlay.set(key, null);
      }
    }
    if (overlay.size > 0) hourOverlay.set(hour, overlay);
  }
  count(stats.tiers, 'hour', hourOverlay);
  if (changes.length === 0) {
    await putFolds();
    return stats;
  }

  // 3. The stored coarse rows of every changed key, all tiers in one read (they do not depend on
  // each other), then each coarser tier in turn (a re-merge reads the finer tier's results of this pass).
  const changesByKey = byKey(changes);
  const plans = COARSE.map((granularity) => {
    const bucketOfHour = new Map(hours.map((hour) => [hour, bucketOf(hour, granularity)]));
    return { granularity, groups: groupChanges(changesByKey, granularity, bucketOfHour) };
  });
  const keys: RollupKey[] = [];
  for (const { groups } of plans) for (const inBucket of groups.values()) for (const group of inBucket.values()) keys.push(group.key);
  const current = byTierBucketAndKey(await ctx.rollupReader.readRollupsByKey(org.id, keys));
  const overlays = new Map<Granularity, Overlay>([['hour', hourOverlay]]);
  for (const { granularity, groups } of plans) {
    const overlay: Overlay = new Map();
    overlays.set(granularity, overlay);
    const set = (bucket: number, key: string, row: RollupRow | null) => {
      let inBucket = overlay.get(bucket);
      if (inBucket === undefined) overlay.set(bucket, (inBucket = new Map()));
      inBucket.set(key, row);
    };

    const storedInTier = current.get(granularity);
    const remerge: Array<{ bucket: number; key: string; template: RollupKey; stored: RollupRow | undefined }> = [];
    for (const [bucket, inBucket] of groups) {
      const storedInBucket = storedInTier?.get(bucket);
      for (const [key, group] of inBucket) {
        const storedRow = storedInBucket?.get(key);
        const outcome = applyContribution(storedRow, group.contribution);
        if (outcome.kind === 'set') {
          const row = rowOf(group.key, outcome.partial);
          upserts.push(row);
          set(bucket, key, row);
        } else if (outcome.kind === 'delete') {
          deletes.push(group.key);
          set(bucket, key, null);
        } else if (outcome.kind === 'remerge') {
          remerge.push({ bucket, key, template: group.key, stored: storedRow });
        }
      }
    }
    stats.tiers[granularity].remerged += remerge.length;
    for (const item of remerge) {
      const row = await remergeRow(ctx, org, item.template, overlays, retention.weekMs === null);
      if (row !== null) {
        upserts.push(row);
        set(item.bucket, item.key, row);
      } else if (item.stored !== undefined) {
        deletes.push(item.template);
        set(item.bucket, item.key, null);
      }
    }
    count(stats.tiers, granularity, overlay);
  }

  // 4. One transaction for every tier.
  await hooks.beforeWrite();
  await ctx.rollupWriter.writeRollupRows(org.id, upserts, deletes);
  await putFolds();
  stats.buckets = stats.tiers.hour.buckets + stats.tiers.day.buckets + stats.tiers.week.buckets + stats.tiers.month.buckets;
  return stats;
}

/** An hour's partials as folded: all of them (`added` false), or those of its new events only. */
interface FoldedHour {
  added: boolean;
  rows: Map<string, RollupRow>;
}

/**
 * Folds the dirty hours in one snapshot: an hour with a watermark reads only the events stored
 * after it (its partials are then added to the stored rows), the others every event. Whole
 * hours come first, so each accumulator sees its events in time order.
 */
async function foldDirtyHours(
  ctx: RecomputeDeps,
  org: Organization,
  hours: readonly number[],
  watermarkOf: (hour: number) => string | null,
): Promise<{ fresh: Map<number, FoldedHour>; events: number; watermark: string }> {
  const tz = org.timezone;
  const compiled = compileMetrics(ctx.metrics);
  const hourOf = (ts: number) => floorBucket(ts, 'hour', tz);
  const fresh = new Map<number, FoldedHour>();
  const wholeHours = hours.filter((hour) => watermarkOf(hour) === null);
  for (const hour of hours) fresh.set(hour, { added: watermarkOf(hour) !== null, rows: new Map() });
  const collect = (row: RollupRow) => fresh.get(row.bucketStart)!.rows.set(seriesKey(row), row);
  const whole = new RollupAccumulator(compiled, hourOf, 'hour', collect);
  const added = new RollupAccumulator(compiled, hourOf, 'hour', collect);
  const ranges: FoldRange[] = contiguousRanges(wholeHours, 'hour', tz).map(([from, to]) => ({ from, to, after: null }));
  const wholeRanges = ranges.length;
  for (const hour of hours) {
    const after = watermarkOf(hour);
    if (after !== null) ranges.push({ from: hour, to: nextBucket(hour, 'hour', tz), after });
  }
  // Folded as read: the current hour can hold hundreds of thousands of events, its partials far fewer.
  const { events, watermark } = await ctx.eventReader.forEachNewEvent(org.id, ranges, (event, range) => (range < wholeRanges ? whole : added).add(event));
  whole.finish();
  added.finish();
  return { fresh, events, watermark };
}

function count(tiers: TierCounts, granularity: Granularity, overlay: Overlay): void {
  tiers[granularity].buckets += overlay.size;
  for (const inBucket of overlay.values()) tiers[granularity].rows += inBucket.size;
}

function memoBuckets(timeZone: string): (instant: number, granularity: Granularity) => number {
  const cache = new Map<string, number>();
  return (instant, granularity) => {
    const id = `${granularity}${instant}`;
    let start = cache.get(id);
    if (start === undefined) {
      start = floorBucket(instant, granularity, timeZone);
      cache.set(id, start);
    }
    return start;
  };
}

import { NotFoundError } from '../../domain/errors.ts';
import type { Organization } from '../../domain/organization.ts';
import type { TierHorizons } from '../../domain/query-plan.ts';
import { floorBucket } from '../../domain/time-buckets.ts';
import type { AppContext } from '../context.ts';
import { MAX_RANGE_DAYS, resolveRange, resolveTimeZone } from './time-input.ts';

/** The normalize stage shared by every query: organization, zones, range and filters. */

export interface CommonQueryInput {
  orgId: string;
  start?: string | undefined;
  end?: string | undefined;
  tz?: string | undefined;
  project?: string | undefined;
  tag?: string | undefined;
  /** Recompute instead of answering from the cache. */
  refresh?: boolean | undefined;
}

export interface QueryScope {
  org: Organization;
  /** Zone of the question: how bare dates are read and where series points start. */
  zone: string;
  /** Zone the rollups are aligned to (the organization's). */
  storageZone: string;
  start: number;
  end: number;
  endIsNow: boolean;
  startIsDefault: boolean;
  project?: string | undefined;
  tag?: string | undefined;
}

export const DEFAULT_SPAN_MS = 7 * 86_400_000;

export interface ScopeOptions {
  defaultSpanMs?: number;
  maxSpanDays?: number;
  startField?: string;
  endField?: string;
  tzField?: string;
  /** Seed 000 parameters: a bare end date includes its day. */
  inclusiveDateEnd?: boolean;
  /** Seed 000 parameters: an absent start is `defaultSpanMs` before now, not before the end. */
  defaultStartFromNow?: boolean;
}

/** `prefetched`: the organization already being read (cached-query.ts `prefetchOrgAndVersion`). */
export async function loadOrganization(ctx: Pick<AppContext, 'orgStore' | 'clock' | 'config'>, orgId: string, prefetched?: Promise<Organization | null>): Promise<Organization> {
  const org = await (prefetched ?? ctx.orgStore.getOrg(orgId));
  if (!org) throw new NotFoundError(`organization "${orgId}" does not exist`);
  return org;
}

export async function resolveScope(
  ctx: Pick<AppContext, 'orgStore' | 'clock' | 'config'>,
  input: CommonQueryInput,
  options: ScopeOptions = {},
  prefetched?: Promise<Organization | null>,
): Promise<QueryScope> {
  const org = await loadOrganization(ctx, input.orgId, prefetched);
  const zone = resolveTimeZone(input.tz, org, options.tzField ?? 'tz');
  const range = resolveRange(input, {
    zone,
    now: ctx.clock.now(),
    defaultSpanMs: options.defaultSpanMs ?? DEFAULT_SPAN_MS,
    maxSpanDays: options.maxSpanDays ?? MAX_RANGE_DAYS,
    startField: options.startField ?? 'start',
    endField: options.endField ?? 'end',
    dateOnlyEndIsInclusive: options.inclusiveDateEnd ?? false,
    defaultStartFromNow: options.defaultStartFromNow ?? false,
  });
  return {
    org,
    zone,
    storageZone: org.timezone,
    start: range.start,
    end: range.end,
    endIsNow: range.endIsNow,
    startIsDefault: range.startIsDefault,
    project: input.project || undefined,
    tag: input.tag ?? undefined,
  };
}

/**
 * How far past its end the range may be read (query-plan `settledEnd`); asked only when the end
 * lies inside a day of the storage zone, as a range ending "now" does: one index probe that
 * spares the hour rows and the raw scan of the end's day.
 */
export async function quietUntil(ctx: Pick<AppContext, 'eventReader'>, scope: QueryScope): Promise<number | undefined> {
  if (floorBucket(scope.end, 'day', scope.storageZone) === scope.end) return undefined;
  return ctx.eventReader.quietAfter(scope.org.id, scope.end);
}

/** Where retention has already removed rollups: the planner reads finer tiers or raw events there. */
export function tierHorizons(ctx: Pick<AppContext, 'orgStore' | 'clock' | 'config'>): TierHorizons {
  const now = ctx.clock.now();
  const { hourMs, dayMs, weekMs, monthMs } = ctx.config.retention;
  const horizons: TierHorizons = { hour: now - hourMs, day: now - dayMs };
  if (weekMs !== null) horizons.week = now - weekMs;
  if (monthMs !== null) horizons.month = now - monthMs;
  return horizons;
}

/** What a cached answer depends on besides the endpoint's own parameters. */
export function scopeKey(scope: QueryScope): Record<string, string | number | null | undefined> {
  return {
    // A range that follows "now" is keyed by its shape, so it can be reused for its short TTL.
    start: scope.endIsNow && scope.startIsDefault ? `now-${scope.end - scope.start}` : scope.start,
    end: scope.endIsNow ? 'now' : scope.end,
    tz: scope.zone,
    storage_tz: scope.storageZone,
    project: scope.project,
    tag: scope.tag,
  };
}

import { ValidationError } from '../../domain/errors.ts';
import type { MetricDefinition } from '../../domain/metrics/definition.ts';
import { planSeries, planTotalCoarsest } from '../../domain/query-plan.ts';
import { MISSING_DIMENSION_VALUE } from '../../domain/rollup-types.ts';
import { addLocalDays, floorBucket, localDate, startOfLocalDate } from '../../domain/time-buckets.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, prefetchOrgAndVersion, type CachedJson } from './cached-query.ts';
import { collectDimensionTotals, collectSeries, statsOf, type Totals } from './collect.ts';
import { loadOrganization, quietUntil, tierHorizons, type QueryScope } from './scope.ts';
import { formatInstant, formatLabel, MAX_RANGE_DAYS, resolveRange, resolveTimeZone } from './time-input.ts';

/**
 * `dashboard` (seed 002): the request-log dashboard in one camelCase payload, from the
 * requests / request_errors / request_latency_ms / request_cost_usd rollups. Preset ranges
 * end now and start on a bucket boundary, so 24h is 24 hourly points (the last one still
 * filling) and 7d, 1m, 3m are 7, 30 and 90 local days.
 */

export const DASHBOARD_RANGES = ['24h', '7d', '1m', '3m', 'custom'] as const;
export type DashboardRange = (typeof DASHBOARD_RANGES)[number];
const PRESET_DAYS: Record<Exclude<DashboardRange, '24h' | 'custom'>, number> = { '7d': 7, '1m': 30, '3m': 90 };
const TOP_N = 10;
const HOUR = 3_600_000;

export interface DashboardPayload {
  range: DashboardRange;
  generatedAt: string;
  timezone: string;
  start: string;
  end: string;
  grain: 'hour' | 'day';
  requests: { timestamps: string[]; success: number[]; error: number[] };
  errorsBreakdown: Array<{ label: string; value: number }>;
  topModels: Array<{ name: string; requests: number }>;
  costs: { timestamps: string[]; value: number[] };
  topCountries: Array<{ countryCode: string; requests: number }>;
  /** `value` is the mean latency per point (null without requests); p50/p95/p99 from merged sketches. */
  latency: { timestamps: string[]; value: Array<number | null>; p50: Array<number | null>; p95: Array<number | null>; p99: Array<number | null> };
}

export interface DashboardInput {
  orgId: string;
  range?: DashboardRange | undefined;
  start?: string | undefined;
  end?: string | undefined;
  tz?: string | undefined;
  project?: string | undefined;
  tag?: string | undefined;
  refresh?: boolean | undefined;
}

function metricNamed(ctx: QueryDeps, name: string): MetricDefinition {
  const metric = ctx.metrics.find((m) => m.name === name);
  if (!metric) throw new Error(`the built-in metric "${name}" is missing from the catalog`);
  return metric;
}

function top(totals: Totals, metric: string, limit: number): Array<{ key: string; value: number }> {
  return [...(totals.get(metric) ?? new Map()).entries()]
    .filter(([key]) => key !== MISSING_DIMENSION_VALUE)
    .map(([key, partial]) => ({ key, value: statsOf(partial).count }))
    .filter((item) => item.value > 0)
    .sort((a, b) => b.value - a.value || (a.key < b.key ? -1 : 1))
    .slice(0, limit);
}

export async function dashboard(ctx: QueryDeps, input: DashboardInput): Promise<CachedJson> {
  const prefetch = prefetchOrgAndVersion(ctx, input.orgId);
  const version = prefetch.version;
  const org = await loadOrganization(ctx, input.orgId, prefetch.org);
  const zone = resolveTimeZone(input.tz, org);
  const now = ctx.clock.now();
  const range = input.range ?? '7d';
  let start: number;
  let end = now;
  let endIsNow = true;
  if (range === 'custom') {
    if (!input.start) throw ValidationError.field('start', 'is required when range=custom');
    if (!input.end) throw ValidationError.field('end', 'is required when range=custom');
    const custom = resolveRange(input, { zone, now, defaultSpanMs: 0, maxSpanDays: MAX_RANGE_DAYS, startField: 'start', endField: 'end' });
    start = custom.start;
    end = custom.end;
    endIsNow = false;
  } else if (range === '24h') {
    start = floorBucket(now, 'hour', zone) - 23 * HOUR;
  } else {
    start = startOfLocalDate(addLocalDays(localDate(now, zone), 1 - PRESET_DAYS[range]), zone);
  }
  const grain: 'hour' | 'day' = range === '24h' ? 'hour' : 'day';
  const scope: QueryScope = {
    org,
    zone,
    storageZone: org.timezone,
    start,
    end,
    endIsNow,
    startIsDefault: range !== 'custom',
    project: input.project || undefined,
    tag: input.tag,
  };
  return cachedJson(
    ctx,
    {
      orgId: org.id,
      endpoint: 'dashboard',
      query: { range, start: endIsNow ? null : start, end: endIsNow ? 'now' : end, tz: zone, storage_tz: org.timezone, project: scope.project, tag: scope.tag },
      end: endIsNow ? null : end,
      storageZone: org.timezone,
      refresh: input.refresh,
      version,
    },
    () => computeDashboard(ctx, scope, range, grain, now),
  );
}

async function computeDashboard(ctx: QueryDeps, scope: QueryScope, range: DashboardRange, grain: 'hour' | 'day', now: number): Promise<DashboardPayload> {
  const requests = metricNamed(ctx, 'requests');
  const errors = metricNamed(ctx, 'request_errors');
  const latency = metricNamed(ctx, 'request_latency_ms');
  const cost = metricNamed(ctx, 'request_cost_usd');
  const base = { orgId: scope.org.id, project: scope.project, tag: scope.tag };
  // The dashboard picks tiers freely: the coarsest stored buckets that fit each point.
  const horizons = tierHorizons(ctx);
  const quiet = await quietUntil(ctx, scope);
  const plan = planSeries({ start: scope.start, end: scope.end, granularity: grain, queryZone: scope.zone, storageZone: scope.storageZone, source: 'monthly', horizons, quietUntil: quiet });
  const totalPieces = planTotalCoarsest({ start: scope.start, end: scope.end, storageZone: scope.storageZone, horizons, quietUntil: quiet }).pieces;
  const [series, byDimension] = await Promise.all([
    collectSeries(ctx, { ...base, metrics: [requests, errors, latency, cost], dimName: '' }, plan),
    collectDimensionTotals(
      ctx,
      base,
      [
        { metric: errors, dimName: 'status_code' },
        { metric: requests, dimName: 'model' },
        { metric: requests, dimName: 'country' },
      ],
      totalPieces,
    ),
  ]);
  const byStatus = byDimension.get('status_code')!;
  const byModel = byDimension.get('model')!;
  const byCountry = byDimension.get('country')!;
  const pointStats = (metric: MetricDefinition) => plan.buckets.map((_, i) => statsOf(series.get(metric.name)?.get('')?.points[i]));
  const requestStats = pointStats(requests);
  const errorStats = pointStats(errors);
  const latencyStats = pointStats(latency);
  const timestamps = plan.buckets.map((bucket) => formatLabel(bucket.bucketStart, grain, scope.zone));
  return {
    range,
    generatedAt: formatInstant(now, 'UTC'),
    timezone: scope.zone,
    start: formatInstant(scope.start, scope.zone),
    end: formatInstant(scope.end, scope.zone),
    grain,
    requests: {
      timestamps,
      success: requestStats.map((stats, i) => stats.count - errorStats[i]!.count),
      error: errorStats.map((stats) => stats.count),
    },
    errorsBreakdown: top(byStatus, errors.name, Number.MAX_SAFE_INTEGER).map(({ key, value }) => ({ label: key, value })),
    topModels: top(byModel, requests.name, TOP_N).map(({ key, value }) => ({ name: key, requests: value })),
    costs: { timestamps, value: pointStats(cost).map((stats) => stats.sum) },
    topCountries: top(byCountry, requests.name, TOP_N).map(({ key, value }) => ({ countryCode: key, requests: value })),
    latency: {
      timestamps,
      value: latencyStats.map((stats) => stats.avg),
      p50: latencyStats.map((stats) => stats.p50),
      p95: latencyStats.map((stats) => stats.p95),
      p99: latencyStats.map((stats) => stats.p99),
    },
  };
}

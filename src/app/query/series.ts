import { ValidationError } from '../../domain/errors.ts';
import { apiMetricType, type MetricDefinition } from '../../domain/metrics/definition.ts';
import type { Organization } from '../../domain/organization.ts';
import { countSeriesBuckets, planSeries, type SeriesPlan, type SourceParam } from '../../domain/query-plan.ts';
import { checkResponsePoints, MAX_RESPONSE_POINTS, type NarrowingFields } from '../../domain/response-cap.ts';
import type { Granularity } from '../../domain/rollup-types.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, prefetchOrgAndVersion, type CachedJson } from './cached-query.ts';
import { collectSeries, reportedMetrics, statsOf, valueOf, type SeriesCells } from './collect.ts';
import { discoveredGauge, parseMetricNames, requireDimension, selectMetrics, type MetricSelection } from './metric-selection.ts';
import { quietUntil, resolveScope, scopeKey, tierHorizons, type CommonQueryInput, type QueryScope } from './scope.ts';
import type { QueryOptions } from './summary.ts';
import { formatInstant } from './time-input.ts';

/** `series` (seed 000 shape): one entry per metric, or per metric and dimension value. */

export const MAX_SERIES_POINTS = 10_000;
export const DEFAULT_DIMENSION_VALUES = 100;
export const MAX_DIMENSION_VALUES = 1000;

export interface SeriesPoint {
  timestamp: string;
  value: number;
  count: number;
  /** Distributions only. */
  average_value?: number | null;
  p50_value?: number | null;
  p95_value?: number | null;
  p99_value?: number | null;
}

export interface SeriesEntry {
  metric_name: string;
  metric_type: 'counter' | 'histogram';
  /** The filter the series was computed under; null = every project (or tag). */
  project: string | null;
  tag: string | null;
  dimension?: string;
  dimension_value?: string;
  data: SeriesPoint[];
  total_value: number;
  total_count: number;
}

export interface SeriesResponse {
  start_date: string;
  end_date: string;
  granularity: Granularity;
  source: string;
  series: SeriesEntry[];
  /** live-series only: metrics that could not be computed. */
  partial_errors?: string[];
}

export interface SeriesInput extends CommonQueryInput {
  metric?: string | readonly string[] | undefined;
  granularity?: Granularity | undefined;
  dimension?: string | undefined;
  fill?: 'zero' | 'none' | undefined;
  source?: SourceParam | undefined;
  /** Dimension values per metric (largest first) when `dimension` is set. */
  limit?: number | undefined;
}

export interface SeriesOptions extends QueryOptions {
  granularityField?: string;
  defaultGranularity?: Granularity;
}

export interface SeriesRequest {
  selection: MetricSelection;
  granularity: Granularity;
  dimension: string | undefined;
  fill: 'zero' | 'none';
  limit: number;
  /** Buckets per series (known from the range before any data is read). */
  buckets: number;
  /** Parameter names to cite when the answer would be over the response cap. */
  narrowing: NarrowingFields;
}

/** Buckets of one series over the scope; a 400 past MAX_SERIES_POINTS. Counting stops there, so it stays cheap. */
export function checkPointCount(scope: QueryScope, granularity: Granularity, field: string): number {
  const points = countSeriesBuckets(scope.start, scope.end, granularity, scope.zone, Math.max(MAX_SERIES_POINTS, MAX_RESPONSE_POINTS));
  if (points > MAX_SERIES_POINTS) {
    throw ValidationError.field(field, `"${granularity}" gives more than ${MAX_SERIES_POINTS} points over this range; use a coarser granularity`);
  }
  return points;
}

/** Validates `dimension` against the selection; returns the metrics to report. */
export function metricsForDimension(selection: MetricSelection, dimension: string | undefined): MetricDefinition[] {
  if (dimension === undefined) return selection.metrics;
  if (!selection.all) {
    const lacking = selection.metrics.find((m) => !m.dimensions.includes(dimension));
    if (lacking) requireDimension([lacking], dimension);
  }
  return requireDimension(selection.metrics, dimension);
}

function point(metric: MetricDefinition, timestamp: string, partial: SeriesCells['points'][number]): SeriesPoint {
  const stats = statsOf(partial);
  const result: SeriesPoint = { timestamp, value: valueOf(metric, stats), count: stats.count };
  if (metric.kind === 'distribution') {
    result.average_value = stats.avg;
    result.p50_value = stats.p50;
    result.p95_value = stats.p95;
    result.p99_value = stats.p99;
  }
  return result;
}

export async function computeSeries(
  ctx: QueryDeps,
  scope: QueryScope,
  request: SeriesRequest,
  plan: SeriesPlan,
  source: string,
): Promise<SeriesResponse> {
  const metrics = metricsForDimension(request.selection, request.dimension);
  const narrowed = request.selection.all && request.dimension === undefined ? null : metrics;
  const data = await collectSeries(
    ctx,
    { orgId: scope.org.id, metrics: narrowed, project: scope.project, tag: scope.tag, dimName: request.dimension ?? '' },
    plan,
  );
  const reported =
    request.dimension === undefined ? reportedMetrics(metrics, request.selection.all, data.keys(), discoveredGauge) : metrics;
  // Gauges found in the data were unknown to the plan: check again before building points.
  if (reported.length > metrics.length) {
    checkResponsePoints({ buckets: request.buckets, granularity: request.granularity, metrics: reported.length, dimensionValues: 1 }, request.narrowing);
  }
  const series: SeriesEntry[] = [];
  // Every entry shares the buckets: each timestamp is formatted once, not once per metric and value.
  const timestamps = plan.buckets.map((bucket) => formatInstant(bucket.bucketStart, scope.zone));
  for (const metric of reported) {
    const byDim = data.get(metric.name);
    const entries: Array<[string | undefined, SeriesCells | undefined]> =
      request.dimension === undefined ? [[undefined, byDim?.get('')]] : rankDimensionValues(metric, byDim, request.limit);
    for (const [dimensionValue, cells] of entries) {
      const totals = statsOf(cells?.total);
      const points = timestamps.map((timestamp, i) => point(metric, timestamp, cells?.points[i]));
      series.push({
        metric_name: metric.name,
        metric_type: apiMetricType(metric.kind),
        project: scope.project ?? null,
        tag: scope.tag ?? null,
        ...(dimensionValue === undefined ? {} : { dimension: request.dimension!, dimension_value: dimensionValue }),
        data: request.fill === 'none' ? points.filter((p) => p.count > 0) : points,
        total_value: valueOf(metric, totals),
        total_count: totals.count,
      });
    }
  }
  return {
    start_date: formatInstant(scope.start, scope.zone),
    end_date: formatInstant(scope.end, scope.zone),
    granularity: request.granularity,
    source,
    series,
  };
}

/** Dimension values of one metric, largest total first (ties by value), at most `limit`. */
function rankDimensionValues(metric: MetricDefinition, byDim: Map<string, SeriesCells> | undefined, limit: number): Array<[string, SeriesCells]> {
  if (!byDim) return [];
  return [...byDim.entries()]
    .map(([value, cells]) => ({ value, cells, total: valueOf(metric, statsOf(cells.total)) }))
    .sort((a, b) => b.total - a.total || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, limit)
    .map(({ value, cells }) => [value, cells]);
}

export async function prepareSeries(ctx: QueryDeps, input: SeriesInput, options: SeriesOptions, org?: Promise<Organization | null>) {
  const scope = await resolveScope(ctx, input, options, org);
  const selection = await selectMetrics(ctx, scope.org.id, parseMetricNames(input.metric), options.metricField);
  const granularity = input.granularity ?? options.defaultGranularity ?? 'day';
  const granularityField = options.granularityField ?? 'granularity';
  const buckets = checkPointCount(scope, granularity, granularityField);
  const dimension = input.dimension || undefined;
  const request: SeriesRequest = {
    selection,
    granularity,
    dimension,
    fill: input.fill ?? 'zero',
    limit: Math.min(input.limit ?? DEFAULT_DIMENSION_VALUES, MAX_DIMENSION_VALUES),
    buckets,
    narrowing: {
      granularity: granularityField,
      metric: options.metricField ?? 'metric',
      range: `${options.startField ?? 'start'}/${options.endField ?? 'end'}`,
      ...(dimension === undefined ? {} : { limit: 'limit' }),
    },
  };
  // The answer's size from the plan alone (as if fill=zero), before any data is read.
  const answered = metricsForDimension(selection, dimension).length;
  checkResponsePoints(
    { buckets, granularity, metrics: answered, dimensionValues: dimension === undefined ? 1 : request.limit },
    request.narrowing,
  );
  const cacheQuery = {
    ...scopeKey(scope),
    metric: selection.all ? null : selection.metrics.map((m) => m.name),
    granularity,
    dimension: request.dimension,
    fill: request.fill,
    limit: request.dimension === undefined ? undefined : request.limit,
  };
  return { scope, request, cacheQuery };
}

export async function series(ctx: QueryDeps, input: SeriesInput, options: SeriesOptions = {}): Promise<CachedJson> {
  const { org, version } = prefetchOrgAndVersion(ctx, input.orgId);
  const { scope, request, cacheQuery } = await prepareSeries(ctx, input, options, org);
  const source = input.source ?? 'auto';
  return cachedJson(
    ctx,
    {
      orgId: scope.org.id,
      endpoint: 'series',
      query: { ...cacheQuery, source },
      end: scope.endIsNow ? null : scope.end,
      storageZone: scope.storageZone,
      refresh: input.refresh,
      version,
    },
    async () => {
      const plan = planSeries({
        start: scope.start,
        end: scope.end,
        granularity: request.granularity,
        queryZone: scope.zone,
        storageZone: scope.storageZone,
        source,
        horizons: tierHorizons(ctx),
        quietUntil: await quietUntil(ctx, scope),
      });
      return computeSeries(ctx, scope, request, plan, plan.source);
    },
  );
}

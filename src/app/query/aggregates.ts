import { ValidationError } from '../../domain/errors.ts';
import { planSeries, type SourceParam } from '../../domain/query-plan.ts';
import { MAX_RESPONSE_POINTS } from '../../domain/response-cap.ts';
import type { Granularity } from '../../domain/rollup-types.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, type CachedJson } from './cached-query.ts';
import { collectSeries, statsOf, valueOf } from './collect.ts';
import { parseMetricNames, requireDimension, selectMetrics } from './metric-selection.ts';
import { resolveScope, scopeKey, tierHorizons, type CommonQueryInput } from './scope.ts';
import { checkPointCount } from './series.ts';
import { formatInstant } from './time-input.ts';

/**
 * `aggregates`: rollup rows in seed 003's `metrics_aggregates` shape, one per bucket (and
 * dimension value) that holds data. Buckets are cut in the query zone and exact like every
 * other answer; percentiles only for distributions.
 */

export interface AggregateRow {
  bucket_time: string;
  granularity: Granularity;
  metric_name: string;
  dimension_type: string | null;
  dimension_value: string | null;
  count: number;
  sum_value: number;
  min_value: number | null;
  max_value: number | null;
  avg_value: number | null;
  p50_value: number | null;
  p95_value: number | null;
  p99_value: number | null;
}

export interface AggregatesResponse {
  metric_name: string;
  granularity: Granularity;
  rows: AggregateRow[];
}

export interface AggregatesInput extends CommonQueryInput {
  metric?: string | readonly string[] | undefined;
  granularity?: Granularity | undefined;
  dimension?: string | undefined;
  source?: SourceParam | undefined;
}

export async function aggregates(ctx: QueryDeps, input: AggregatesInput): Promise<CachedJson> {
  const names = parseMetricNames(input.metric);
  if (names.length !== 1) throw ValidationError.field('metric', 'name exactly one metric');
  const scope = await resolveScope(ctx, input);
  const { metrics } = await selectMetrics(ctx, scope.org.id, names);
  const metric = input.dimension ? requireDimension(metrics, input.dimension)[0]! : metrics[0]!;
  const granularity = input.granularity ?? 'hour';
  checkPointCount(scope, granularity, 'granularity');
  const dimension = input.dimension || undefined;
  const source = input.source ?? 'auto';
  return cachedJson(
    ctx,
    {
      orgId: scope.org.id,
      endpoint: 'aggregates',
      query: { ...scopeKey(scope), metric: metric.name, granularity, dimension, source },
      end: scope.endIsNow ? null : scope.end,
      storageZone: scope.storageZone,
      refresh: input.refresh,
    },
    async (): Promise<AggregatesResponse> => {
      const plan = planSeries({ start: scope.start, end: scope.end, granularity, queryZone: scope.zone, storageZone: scope.storageZone, source, horizons: tierHorizons(ctx) });
      const data = await collectSeries(
        ctx,
        { orgId: scope.org.id, metrics: [metric], project: scope.project, tag: scope.tag, dimName: dimension ?? '' },
        plan,
      );
      const byDim = [...(data.get(metric.name) ?? new Map()).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const rows: AggregateRow[] = [];
      plan.buckets.forEach((bucket, i) => {
        for (const [dimValue, cells] of byDim) {
          const stats = statsOf(cells.points[i]);
          if (stats.count === 0) continue;
          // How many values a dimension has is known only from the data (there is no limit here).
          if (rows.length === MAX_RESPONSE_POINTS) {
            throw ValidationError.field(
              dimension === undefined ? 'granularity' : 'dimension',
              `the answer would hold more than ${MAX_RESPONSE_POINTS} rows (the cap per response); narrow it: a coarser granularity, a shorter range (start/end)${dimension === undefined ? '' : ', or no dimension'}`,
            );
          }
          const distribution = metric.kind === 'distribution';
          rows.push({
            bucket_time: formatInstant(bucket.bucketStart, scope.zone),
            granularity,
            metric_name: metric.name,
            dimension_type: dimension ?? null,
            dimension_value: dimension === undefined ? null : dimValue,
            count: stats.count,
            // A unique metric's one number is its distinct count; it has no sum of values.
            sum_value: metric.kind === 'unique' ? valueOf(metric, stats) : stats.sum,
            min_value: stats.min,
            max_value: stats.max,
            avg_value: stats.avg,
            p50_value: distribution ? stats.p50 : null,
            p95_value: distribution ? stats.p95 : null,
            p99_value: distribution ? stats.p99 : null,
          });
        }
      });
      return { metric_name: metric.name, granularity, rows };
    },
  );
}

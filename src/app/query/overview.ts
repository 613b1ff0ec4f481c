import { planSeries } from '../../domain/query-plan.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, type CachedJson } from './cached-query.ts';
import { collectSeries, comparableValue, reportedMetrics, statsOf, valueOf } from './collect.ts';
import { discoveredGauge, parseMetricNames, selectMetrics } from './metric-selection.ts';
import { resolveScope, scopeKey, tierHorizons } from './scope.ts';
import type { QueryOptions, SummaryInput } from './summary.ts';
import { formatInstant, localDaysIn } from './time-input.ts';

/**
 * `overview` (seed 000 shape): totals and a daily trend for the dashboard's home cards.
 * Without a `metric` filter only metrics that have data in the range are listed, as the
 * original did; with one, the named metrics are listed even when zero.
 */

export interface OverviewResponse {
  period: { start_date: string; end_date: string; days: number };
  totals: Array<{ metric_name: string; total_value: number; total_count: number }>;
  /** Per day: a counter's or sum's total, a distribution's average (null without values), a gauge's reading. */
  daily_trend: Array<{ date: string; metrics: Record<string, number | null> }>;
}

export async function overview(ctx: QueryDeps, input: Omit<SummaryInput, 'source'>, options: QueryOptions = {}): Promise<CachedJson> {
  const scope = await resolveScope(ctx, input, options);
  const selection = await selectMetrics(ctx, scope.org.id, parseMetricNames(input.metric), options.metricField);
  return cachedJson(
    ctx,
    {
      orgId: scope.org.id,
      endpoint: 'overview',
      query: { ...scopeKey(scope), metric: selection.all ? null : selection.metrics.map((m) => m.name) },
      end: scope.endIsNow ? null : scope.end,
      storageZone: scope.storageZone,
      refresh: input.refresh,
    },
    async (): Promise<OverviewResponse> => {
      const plan = planSeries({
        start: scope.start,
        end: scope.end,
        granularity: 'day',
        queryZone: scope.zone,
        storageZone: scope.storageZone,
        source: 'auto',
        horizons: tierHorizons(ctx),
      });
      const data = await collectSeries(
        ctx,
        { orgId: scope.org.id, metrics: selection.all ? null : selection.metrics, project: scope.project, tag: scope.tag, dimName: '' },
        plan,
      );
      const metrics = reportedMetrics(selection.metrics, selection.all, data.keys(), discoveredGauge).filter(
        (metric) => !selection.all || (data.get(metric.name)?.get('')?.total.count ?? 0) > 0,
      );
      const cellsOf = (name: string) => data.get(name)?.get('');
      return {
        period: {
          start_date: formatInstant(scope.start, scope.zone),
          end_date: formatInstant(scope.end, scope.zone),
          days: localDaysIn(scope.start, scope.end, scope.zone),
        },
        totals: metrics.map((metric) => {
          const stats = statsOf(cellsOf(metric.name)?.total);
          return { metric_name: metric.name, total_value: valueOf(metric, stats), total_count: stats.count };
        }),
        daily_trend: plan.buckets.map((bucket, i) => ({
          date: formatInstant(bucket.bucketStart, scope.zone),
          metrics: Object.fromEntries(
            metrics.map((metric) => {
              const stats = statsOf(cellsOf(metric.name)?.points[i]);
              return [metric.name, metric.kind === 'distribution' ? comparableValue(metric, stats) : valueOf(metric, stats)];
            }),
          ),
        })),
      };
    },
  );
}

import { apiMetricType, type MetricDefinition } from '../../domain/metrics/definition.ts';
import { planTotal, planTotalCoarsest, type PlanPiece, type RangePlan, type SourceParam } from '../../domain/query-plan.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, prefetchOrgAndVersion, type CachedJson } from './cached-query.ts';
import { collectTotals, reportedMetrics, statsOf, valueOf } from './collect.ts';
import { discoveredGauge, parseMetricNames, selectMetrics, type MetricSelection } from './metric-selection.ts';
import { quietUntil, resolveScope, scopeKey, tierHorizons, type CommonQueryInput, type QueryScope, type ScopeOptions } from './scope.ts';
import { formatInstant } from './time-input.ts';

/** `summary` (seed 000 shape): one line of totals per metric over [start, end). */

export interface SummaryItem {
  metric_name: string;
  metric_type: 'counter' | 'histogram';
  total_value: number;
  total_count: number;
  average_value: number | null;
  min_value: number | null;
  max_value: number | null;
  p50_value?: number | null;
  p95_value?: number | null;
  p99_value?: number | null;
}

export interface SummaryResponse {
  start_date: string;
  end_date: string;
  source: string;
  summary: SummaryItem[];
}

export interface SummaryInput extends CommonQueryInput {
  metric?: string | readonly string[] | undefined;
  source?: SourceParam | undefined;
}

export interface QueryOptions extends ScopeOptions {
  metricField?: string;
}

export async function computeSummary(
  ctx: QueryDeps,
  scope: QueryScope,
  selection: MetricSelection,
  plan: { source: string; pieces: readonly PlanPiece[] },
): Promise<SummaryResponse> {
  const totals = await collectTotals(
    ctx,
    { orgId: scope.org.id, metrics: selection.all ? null : selection.metrics, project: scope.project, tag: scope.tag, dimName: '' },
    plan.pieces,
  );
  const metrics = reportedMetrics(selection.metrics, selection.all, totals.keys(), discoveredGauge);
  return {
    start_date: formatInstant(scope.start, scope.zone),
    end_date: formatInstant(scope.end, scope.zone),
    source: plan.source,
    summary: metrics.map((metric) => summaryItem(metric, statsOf(totals.get(metric.name)?.get('')))),
  };
}

export function summaryItem(metric: MetricDefinition, stats: ReturnType<typeof statsOf>): SummaryItem {
  const item: SummaryItem = {
    metric_name: metric.name,
    metric_type: apiMetricType(metric.kind),
    total_value: valueOf(metric, stats),
    total_count: stats.count,
    average_value: stats.avg,
    min_value: stats.min,
    max_value: stats.max,
  };
  if (metric.kind === 'distribution') {
    item.p50_value = stats.p50;
    item.p95_value = stats.p95;
    item.p99_value = stats.p99;
  }
  return item;
}

export async function summary(ctx: QueryDeps, input: SummaryInput, options: QueryOptions = {}): Promise<CachedJson> {
  const { org, version } = prefetchOrgAndVersion(ctx, input.orgId);
  const scope = await resolveScope(ctx, input, options, org);
  const selection = await selectMetrics(ctx, scope.org.id, parseMetricNames(input.metric), options.metricField);
  const source = input.source ?? 'auto';
  return cachedJson(
    ctx,
    {
      orgId: scope.org.id,
      endpoint: 'summary',
      query: { ...scopeKey(scope), metric: selection.all ? null : selection.metrics.map((m) => m.name), source },
      end: scope.endIsNow ? null : scope.end,
      storageZone: scope.storageZone,
      refresh: input.refresh,
      version,
    },
    async () => computeSummary(ctx, scope, selection, await planFor(ctx, scope, source)),
  );
}

/** An explicit source pins its tiers; `auto` lets any stored tier answer (same totals, fewer rows). */
export async function planFor(ctx: QueryDeps, scope: QueryScope, source: SourceParam): Promise<RangePlan> {
  const range = { start: scope.start, end: scope.end, storageZone: scope.storageZone, horizons: tierHorizons(ctx), quietUntil: await quietUntil(ctx, scope) };
  return source === 'auto' ? planTotalCoarsest(range) : planTotal({ ...range, source });
}

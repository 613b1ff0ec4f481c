import { ValidationError } from '../../domain/errors.ts';
import type { SourceParam } from '../../domain/query-plan.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, prefetchOrgAndVersion, type CachedJson } from './cached-query.ts';
import { collectTotals, statsOf, valueOf } from './collect.ts';
import { parseMetricNames, requireDimension, selectMetrics } from './metric-selection.ts';
import { resolveScope, scopeKey, type CommonQueryInput } from './scope.ts';
import { planFor } from './summary.ts';
import { formatInstant } from './time-input.ts';

/** `breakdown`: the top values of one dimension of one metric over [start, end), largest first. */

export const DEFAULT_BREAKDOWN_LIMIT = 10;
export const MAX_BREAKDOWN_LIMIT = 1000;

export interface BreakdownResponse {
  metric_name: string;
  dimension: string;
  start_date: string;
  end_date: string;
  items: Array<{ value: string; total_value: number; total_count: number }>;
}

export interface BreakdownInput extends CommonQueryInput {
  metric?: string | readonly string[] | undefined;
  dimension?: string | undefined;
  limit?: number | undefined;
  source?: SourceParam | undefined;
}

export async function breakdown(ctx: QueryDeps, input: BreakdownInput): Promise<CachedJson> {
  const names = parseMetricNames(input.metric);
  if (names.length !== 1) throw ValidationError.field('metric', 'name exactly one metric to break down');
  if (!input.dimension) throw ValidationError.field('dimension', 'is required');
  const { org, version } = prefetchOrgAndVersion(ctx, input.orgId);
  const scope = await resolveScope(ctx, input, {}, org);
  const { metrics } = await selectMetrics(ctx, scope.org.id, names);
  const metric = requireDimension(metrics, input.dimension)[0]!;
  const dimension = input.dimension;
  const limit = Math.min(input.limit ?? DEFAULT_BREAKDOWN_LIMIT, MAX_BREAKDOWN_LIMIT);
  const source = input.source ?? 'auto';
  return cachedJson(
    ctx,
    {
      orgId: scope.org.id,
      endpoint: 'breakdown',
      query: { ...scopeKey(scope), metric: metric.name, dimension, limit, source },
      end: scope.endIsNow ? null : scope.end,
      storageZone: scope.storageZone,
      refresh: input.refresh,
      version,
    },
    async (): Promise<BreakdownResponse> => {
      const plan = await planFor(ctx, scope, source);
      const totals = await collectTotals(
        ctx,
        { orgId: scope.org.id, metrics: [metric], project: scope.project, tag: scope.tag, dimName: dimension },
        plan.pieces,
      );
      const items = [...(totals.get(metric.name) ?? new Map()).entries()]
        .map(([value, partial]) => {
          const stats = statsOf(partial);
          return { value, total_value: valueOf(metric, stats), total_count: stats.count };
        })
        .sort((a, b) => b.total_value - a.total_value || b.total_count - a.total_count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
        .slice(0, limit);
      return {
        metric_name: metric.name,
        dimension,
        start_date: formatInstant(scope.start, scope.zone),
        end_date: formatInstant(scope.end, scope.zone),
        items,
      };
    },
  );
}

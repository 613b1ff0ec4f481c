import { compareValues, type Comparison } from '../../domain/compare.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { MetricDefinition } from '../../domain/metrics/definition.ts';
import { planTotal } from '../../domain/query-plan.ts';
import { addLocalDays, localDate, nextBucket, startOfLocalDate } from '../../domain/time-buckets.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, type CachedJson } from './cached-query.ts';
import { collectTotals, reportedMetrics, statsOf, valueOf, type Totals } from './collect.ts';
import { discoveredGauge, parseMetricNames, selectMetrics } from './metric-selection.ts';
import { loadOrganization, tierHorizons } from './scope.ts';
import { resolveTimeZone } from './time-input.ts';

/**
 * `compare` (seed 004): each metric's value on a local day against 1, 7 and 30 days before.
 * The day defaults to yesterday, the last complete day in the zone.
 */

export const COMPARE_OFFSETS = [1, 7, 30] as const;

export interface CompareMetric {
  metric_name: string;
  category: string;
  unit: string;
  description: string;
  /** Null only for a gauge without a reading that day. */
  current: number | null;
  comparisons: Record<'1' | '7' | '30', Comparison>;
}

export interface CompareResponse {
  date: string;
  timezone: string;
  metrics: CompareMetric[];
}

export interface CompareInput {
  orgId: string;
  date?: string | undefined;
  tz?: string | undefined;
  project?: string | undefined;
  tag?: string | undefined;
  metric?: string | readonly string[] | undefined;
  refresh?: boolean | undefined;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function dayValue(metric: MetricDefinition, totals: Totals): number | null {
  const stats = statsOf(totals.get(metric.name)?.get(''));
  // A gauge without a reading has no value; a counter or sum without events is zero.
  if (metric.kind === 'gauge' && stats.last === null) return null;
  return valueOf(metric, stats);
}

export async function compare(ctx: QueryDeps, input: CompareInput): Promise<CachedJson> {
  const org = await loadOrganization(ctx, input.orgId);
  const zone = resolveTimeZone(input.tz, org);
  const now = ctx.clock.now();
  const date = input.date ?? addLocalDays(localDate(now, zone), -1);
  if (!DATE.test(date)) throw ValidationError.field('date', `"${date}" is not a YYYY-MM-DD date`);
  let dayStart: number;
  try {
    dayStart = startOfLocalDate(date, zone);
  } catch {
    throw ValidationError.field('date', `"${date}" is not a calendar date`);
  }
  const selection = await selectMetrics(ctx, org.id, parseMetricNames(input.metric));
  const project = input.project || undefined;
  return cachedJson(
    ctx,
    {
      orgId: org.id,
      endpoint: 'compare',
      query: { date, tz: zone, storage_tz: org.timezone, project, tag: input.tag, metric: selection.all ? null : selection.metrics.map((m) => m.name) },
      end: nextBucket(dayStart, 'day', zone),
      storageZone: org.timezone,
      refresh: input.refresh,
    },
    async (): Promise<CompareResponse> => {
      const days = [date, ...COMPARE_OFFSETS.map((offset) => addLocalDays(date, -offset))];
      const totalsByDay = await Promise.all(
        days.map((day) => {
          const start = startOfLocalDate(day, zone);
          const plan = planTotal({ start, end: nextBucket(start, 'day', zone), storageZone: org.timezone, source: 'daily', horizons: tierHorizons(ctx) });
          return collectTotals(
            ctx,
            { orgId: org.id, metrics: selection.all ? null : selection.metrics, project, tag: input.tag, dimName: '' },
            plan.pieces,
          );
        }),
      );
      const found = totalsByDay.flatMap((totals) => [...totals.keys()]);
      const metrics = reportedMetrics(selection.metrics, selection.all, found, discoveredGauge);
      return {
        date,
        timezone: zone,
        metrics: metrics.map((metric) => {
          // A compared day without any rollup row of any metric has no history: previous is
          // null (shown N/A), not 0 — a counter that simply saw no events that day stays 0.
          const [current, ...previous] = totalsByDay.map((totals, index) =>
            index > 0 && totals.size === 0 ? null : dayValue(metric, totals),
          );
          const compareWith = (index: number): Comparison =>
            current === null || current === undefined
              ? { previous: previous[index] ?? null, change: null, change_pct: null, direction: 0, level: 'ok' }
              : compareValues(current, previous[index]);
          return {
            metric_name: metric.name,
            category: metric.category,
            unit: metric.unit,
            description: metric.description,
            current: current ?? null,
            comparisons: { '1': compareWith(0), '7': compareWith(1), '30': compareWith(2) },
          };
        }),
      };
    },
  );
}

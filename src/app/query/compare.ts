import { compareValues, noComparison, policyFor, type Comparison, type GoodDirection } from '../../domain/compare.ts';
import { ValidationError } from '../../domain/errors.ts';
import { displayName, goodDirectionOf, type MetricDefinition } from '../../domain/metrics/definition.ts';
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
 * The day defaults to yesterday, the last complete day in the zone. A distribution is compared
 * by its average (a busier day is not a slower one), with its p95 alongside. Metrics without
 * data on any of the four days are left out unless `include_empty` asks for them.
 */

export const COMPARE_OFFSETS = [1, 7, 30] as const;

export interface PeriodComparison extends Comparison {
  /** The earlier day's p95, for distributions; null otherwise or without values. */
  previous_p95: number | null;
}

export interface CompareMetric {
  metric_name: string;
  /** The name people read, as GET …/metrics gives it (the metric name when it has no label). */
  label: string;
  category: string;
  unit: string;
  description: string;
  kind: MetricDefinition['kind'];
  good_direction: GoodDirection;
  /** Counter/sum: the day's total; distribution: its average; gauge: its last reading. Null without a reading (gauge) or value (distribution). */
  current: number | null;
  /** The day's 95th percentile, for distributions; null otherwise. */
  p95: number | null;
  comparisons: Record<'1' | '7' | '30', PeriodComparison>;
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
  /** List metrics that have no data on any compared day too (shown as zero / N/A). */
  includeEmpty?: boolean | undefined;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

interface DayReading {
  value: number | null;
  p95: number | null;
  hasData: boolean;
}

function dayReading(metric: MetricDefinition, totals: Totals): DayReading {
  const partial = totals.get(metric.name)?.get('');
  const stats = statsOf(partial);
  const hasData = partial !== undefined && (partial.count > 0 || partial.lastValue !== null);
  // A gauge without a reading and a distribution without values have no value; a counter or sum without events is zero.
  if (metric.kind === 'gauge') return { value: stats.last, p95: null, hasData };
  if (metric.kind === 'distribution') return { value: stats.avg, p95: stats.p95, hasData };
  return { value: valueOf(metric, stats), p95: null, hasData };
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
  // The compared days reach back up to the largest offset; before 1970 nothing can be stored.
  if (date < '1970-02-01') throw ValidationError.field('date', `"${date}" is too early: compare needs dates from 1970-02-01 on`);
  const selection = await selectMetrics(ctx, org.id, parseMetricNames(input.metric));
  const project = input.project || undefined;
  return cachedJson(
    ctx,
    {
      orgId: org.id,
      endpoint: 'compare',
      query: {
        date,
        tz: zone,
        storage_tz: org.timezone,
        project,
        tag: input.tag,
        metric: selection.all ? null : selection.metrics.map((m) => m.name),
        include_empty: input.includeEmpty === true,
      },
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
      const rows = metrics.map((metric) => {
        // A compared day without any rollup row of any metric has no history: previous is
        // null (shown N/A), not 0 — a counter that simply saw no events that day stays 0.
        const [current, ...previous] = totalsByDay.map((totals, index) =>
          index > 0 && totals.size === 0 ? { value: null, p95: null, hasData: false } : dayReading(metric, totals),
        );
        const policy = policyFor(metric, ctx.config.compare);
        const compareWith = (index: number): PeriodComparison => {
          const before = previous[index]!;
          const comparison = current!.value === null ? noComparison(before.value) : compareValues(current!.value, before.value, policy);
          return { ...comparison, previous_p95: before.p95 };
        };
        const entry: CompareMetric = {
          metric_name: metric.name,
          label: displayName(metric),
          category: metric.category,
          unit: metric.unit,
          description: metric.description,
          kind: metric.kind,
          good_direction: policy.goodDirection ?? goodDirectionOf(metric),
          current: current!.value,
          p95: current!.p95,
          comparisons: { '1': compareWith(0), '7': compareWith(1), '30': compareWith(2) },
        };
        return { entry, empty: !current!.hasData && previous.every((day) => !day.hasData) };
      });
      const keepEmpty = input.includeEmpty === true || !selection.all;
      return {
        date,
        timezone: zone,
        metrics: rows.filter((row) => keepEmpty || !row.empty).map((row) => row.entry),
      };
    },
  );
}

import { planSeries } from '../domain/query-plan.ts';
import type { AppContext } from '../app/context.ts';
import { cachedJson, type CachedJson } from '../app/query/cached-query.ts';
import { collectSeries, statsOf, valueOf } from '../app/query/collect.ts';
import { loadOrganization, tierHorizons } from '../app/query/scope.ts';
import { formatInstant, parseInstant, resolveTimeZone } from '../app/query/time-input.ts';
import { localDate, nextBucket } from '../domain/time-buckets.ts';
import { isUnstractMetric } from './original-module.ts';

/**
 * The original module's `overview`: totals and a daily trend of its 12 metrics, listing only
 * metrics and days that have data (the original aggregates stored rows, and only periods
 * with events have rows). Like the original it has no range limit and no validation: a date
 * it cannot read falls back to its default (end: now, start: end − 7 days), and a reversed
 * range is simply empty. `days` is the whole days between the instants, as Python's
 * `timedelta.days` counts them.
 */

const DAY = 86_400_000;
const DEFAULT_SPAN_MS = 7 * DAY;

/**
 * A day of `daily_trend`: its local midnight without an offset (`2026-11-02T00:00:00`). The
 * frontend labels it with `new Date(date).toLocaleDateString()`, which reads such a value as
 * the browser's own local time, so the label is the organization's day in every browser; the
 * original's bare `2026-11-02` is read as UTC and shows the day before west of UTC (a known
 * defect of the original, SPEC Appendix A).
 */
function dayLabel(ts: number, zone: string): string {
  return `${localDate(ts, zone)}T00:00:00`;
}

export interface UnstractOverviewInput {
  orgId: string;
  start_date?: string | undefined;
  end_date?: string | undefined;
  tz?: string | undefined;
  refresh?: boolean | undefined;
}

function readOrNull(text: string | undefined, zone: string, field: string): { ts: number; dateOnly: boolean } | null {
  if (text === undefined || text.trim() === '') return null;
  try {
    return parseInstant(text, zone, field);
  } catch {
    return null;
  }
}

export async function unstractOverview(ctx: AppContext, input: UnstractOverviewInput): Promise<CachedJson> {
  const org = await loadOrganization(ctx, input.orgId);
  const zone = resolveTimeZone(input.tz, org);
  const endGiven = readOrNull(input.end_date, zone, 'end_date');
  const startGiven = readOrNull(input.start_date, zone, 'start_date');
  // A bare end date includes its day, as every alias reads it.
  const end = endGiven === null ? ctx.clock.now() : endGiven.dateOnly ? nextBucket(endGiven.ts, 'day', zone) : endGiven.ts;
  const start = startGiven === null ? end - DEFAULT_SPAN_MS : startGiven.ts;
  const metrics = ctx.metrics.filter((metric) => isUnstractMetric(metric.name));
  return cachedJson(
    ctx,
    {
      orgId: org.id,
      endpoint: 'unstract-overview',
      query: { start: startGiven === null && endGiven === null ? `now-${DEFAULT_SPAN_MS}` : start, end: endGiven === null ? 'now' : end, tz: zone },
      end: endGiven === null ? null : end,
      storageZone: org.timezone,
      refresh: input.refresh,
    },
    async () => {
      const period = { start_date: formatInstant(start, zone), end_date: formatInstant(end, zone), days: Math.floor((end - start) / DAY) };
      if (!(start < end)) return { period, totals: [], daily_trend: [] };
      const plan = planSeries({ start, end, granularity: 'day', queryZone: zone, storageZone: org.timezone, source: 'auto', horizons: tierHorizons(ctx) });
      const data = await collectSeries(ctx, { orgId: org.id, metrics, dimName: '' }, plan);
      const cellsOf = (name: string) => data.get(name)?.get('');
      const withData = metrics.filter((metric) => (cellsOf(metric.name)?.total.count ?? 0) > 0).sort((a, b) => (a.name < b.name ? -1 : 1));
      const totals = withData.map((metric) => {
        const stats = statsOf(cellsOf(metric.name)?.total);
        return { metric_name: metric.name, total_value: valueOf(metric, stats), total_count: stats.count };
      });
      const dailyTrend = plan.buckets.flatMap((bucket, i) => {
        const day: Record<string, number> = {};
        for (const metric of withData) {
          const stats = statsOf(cellsOf(metric.name)?.points[i]);
          if (stats.count > 0) day[metric.name] = valueOf(metric, stats);
        }
        return Object.keys(day).length === 0 ? [] : [{ date: dayLabel(bucket.bucketStart, zone), metrics: day }];
      });
      return { period, totals, daily_trend: dailyTrend };
    },
  );
}

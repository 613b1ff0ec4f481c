import type { AppContext } from '../app/context.ts';
import { collectTotals, statsOf, type Totals } from '../app/query/collect.ts';
import { tierHorizons } from '../app/query/scope.ts';
import type { MetricDefinition } from '../domain/metrics/definition.ts';
import type { Organization } from '../domain/organization.ts';
import { planTotalCoarsest } from '../domain/query-plan.ts';
import { floorBucket, nextBucket } from '../domain/time-buckets.ts';
import { exportedName, labelName, PREFIX, sampleLine, type Family, type Sample } from './exposition.ts';

/**
 * One organization's business series (issue 12), read from the rollups only:
 *
 * - counter and sum metrics: `<name>_total`, the all-time total (month rollups plus the finer
 *   edges up to the end of the current hour). Rollups are authoritative, so the counter only
 *   goes down when a superseding event lowers a count (a file execution that turns from
 *   COMPLETED into ERROR), or when retention removes rows; Prometheus reads that as a reset.
 * - distributions: a summary: `_sum` / `_count` all-time, `{quantile}` over the last hour
 *   (the previous and the current hour bucket); NaN when that hour holds no value.
 * - unique metrics: gauges `{window="1d|7d|30d"}`, the distinct count over the last 1, 7 or 30
 *   days (whole hour buckets, up to the end of the current hour).
 * - gauges (recorded snapshots): `meterboard_snapshot_value{name}`, the latest reading.
 * - opt-in dimension labels: `<name>_by_<dimension>` families, one series per dimension value,
 *   within a cap of series per organization (families that do not fit are left out whole
 *   and counted in `meterboard_prometheus_series_dropped`).
 */

export interface PrometheusSettings {
  /** metric name → dimensions exported as labels. */
  labels: Readonly<Record<string, readonly string[]>>;
  maxSeriesPerOrg: number;
}

export interface OrgSeries {
  /** family name → rendered sample lines of this organization. */
  lines: Map<string, string>;
  families: Map<string, Family>;
  series: number;
  dropped: number;
}

const QUANTILES = [0.5, 0.95, 0.99] as const;
export const UNIQUE_WINDOWS = [
  ['1d', 1],
  ['7d', 7],
  ['30d', 30],
] as const;
const DAY_MS = 86_400_000;
/** All-time totals start here (any instant before the first event works; month-aligned in the zone). */
const ALL_TIME_FROM = Date.UTC(2000, 0, 1);
export const DROPPED_FAMILY = `${PREFIX}prometheus_series_dropped`;
export const SNAPSHOT_FAMILY = `${PREFIX}snapshot_value`;

class Collector {
  readonly lines = new Map<string, string>();
  readonly families = new Map<string, Family>();
  series = 0;

  family(name: string, type: Family['type'], help: string): void {
    if (!this.families.has(name)) this.families.set(name, { name, type, help });
  }

  add(family: string, sample: Sample): void {
    this.lines.set(family, (this.lines.get(family) ?? '') + sampleLine(sample));
    this.series += 1;
  }
}

function helpOf(metric: MetricDefinition, what: string): string {
  const unit = metric.unit === 'ms' ? 'seconds' : metric.unit;
  return `${metric.description || metric.name} (${unit}); ${what}. Metric "${metric.name}".`;
}

type Label = readonly [string, string];

/** Adds the all-time samples of one metric (global or one dimension value). */
function addTotals(out: Collector, metric: MetricDefinition, base: string, scale: number, labels: Label[], totals: Totals, dimValue: string): void {
  const stats = statsOf(totals.get(metric.name)?.get(dimValue));
  if (metric.kind === 'counter' || metric.kind === 'sum') {
    out.family(`${base}_total`, 'counter', helpOf(metric, 'all-time total from the rollups'));
    out.add(`${base}_total`, { name: `${base}_total`, labels, value: stats.sum * scale });
  } else if (metric.kind === 'distribution') {
    out.family(base, 'summary', helpOf(metric, 'all-time sum and count, quantiles over the last hour'));
    out.add(base, { name: `${base}_sum`, labels, value: stats.sum * scale });
    out.add(base, { name: `${base}_count`, labels, value: stats.count });
  }
}

async function windowTotals(ctx: AppContext, org: Organization, metrics: MetricDefinition[], dimName: string, end: number, days: number): Promise<Totals> {
  const pieces = planTotalCoarsest({ start: end - days * DAY_MS, end, storageZone: org.timezone, horizons: tierHorizons(ctx) }).pieces;
  return collectTotals(ctx, { orgId: org.id, metrics, dimName }, pieces);
}

export async function computeOrgSeries(ctx: AppContext, org: Organization, settings: PrometheusSettings): Promise<OrgSeries> {
  const zone = org.timezone;
  const hour = floorBucket(ctx.clock.now(), 'hour', zone);
  const end = nextBucket(hour, 'hour', zone);
  const horizons = tierHorizons(ctx);
  const orgLabel: Label = ['org', org.id];
  const out = new Collector();

  const allTimePieces = planTotalCoarsest({ start: floorBucket(ALL_TIME_FROM, 'month', zone), end, storageZone: zone, horizons }).pieces;
  const lastHourPieces = planTotalCoarsest({ start: floorBucket(hour - 1, 'hour', zone), end, storageZone: zone, horizons }).pieces;
  const distributions = ctx.metrics.filter((m) => m.kind === 'distribution');
  const uniques = ctx.metrics.filter((m) => m.kind === 'unique');
  const [allTime, lastHour, ...windows] = await Promise.all([
    // Every metric present (gauges discovered in the data included).
    collectTotals(ctx, { orgId: org.id, metrics: null, dimName: '' }, allTimePieces),
    distributions.length > 0 ? collectTotals(ctx, { orgId: org.id, metrics: distributions, dimName: '' }, lastHourPieces) : new Map(),
    ...UNIQUE_WINDOWS.map(([, days]) => (uniques.length > 0 ? windowTotals(ctx, org, uniques, '', end, days) : new Map())),
  ]);

  const declared = new Set(ctx.metrics.map((m) => m.name));
  for (const metric of ctx.metrics) {
    const { base, scale } = exportedName(metric);
    if (metric.kind === 'counter' || metric.kind === 'sum' || metric.kind === 'distribution') {
      addTotals(out, metric, base, scale, [orgLabel], allTime, '');
    }
    if (metric.kind === 'distribution') {
      const recent = statsOf(lastHour.get(metric.name)?.get(''));
      const quantiles = [recent.p50, recent.p95, recent.p99];
      QUANTILES.forEach((q, i) => {
        const value = quantiles[i];
        out.add(base, { name: base, labels: [orgLabel, ['quantile', String(q)]], value: value === null || value === undefined ? NaN : value * scale });
      });
    } else if (metric.kind === 'unique') {
      out.family(base, 'gauge', helpOf(metric, 'distinct count over the last 1, 7 and 30 days'));
      UNIQUE_WINDOWS.forEach(([window], i) => {
        const stats = statsOf(windows[i]!.get(metric.name)?.get(''));
        out.add(base, { name: base, labels: [orgLabel, ['window', window]], value: stats.distinct ?? 0 });
      });
    }
  }
  // Snapshots: declared gauges and those discovered in this organization's data.
  out.family(SNAPSHOT_FAMILY, 'gauge', 'Latest reading of each recorded gauge (snapshot), by name.');
  const gaugeNames = [...ctx.metrics.filter((m) => m.kind === 'gauge').map((m) => m.name), ...[...allTime.keys()].filter((name) => !declared.has(name)).sort()];
  for (const name of gaugeNames) {
    const last = statsOf(allTime.get(name)?.get('')).last;
    if (last !== null) out.add(SNAPSHOT_FAMILY, { name: SNAPSHOT_FAMILY, labels: [orgLabel, ['name', name]], value: last });
  }

  const dropped = await addDimensionSeries(ctx, org, settings, out, { allTimePieces, end });
  out.family(DROPPED_FAMILY, 'gauge', `Series left out of this export because the organization reached the cap of ${settings.maxSeriesPerOrg} series.`);
  out.add(DROPPED_FAMILY, { name: DROPPED_FAMILY, labels: [orgLabel], value: dropped });
  return { lines: out.lines, families: out.families, series: out.series, dropped };
}

/** Opt-in `<name>_by_<dimension>` families within the series cap; returns the series left out. */
async function addDimensionSeries(
  ctx: AppContext,
  org: Organization,
  settings: PrometheusSettings,
  out: Collector,
  range: { allTimePieces: ReturnType<typeof planTotalCoarsest>['pieces']; end: number },
): Promise<number> {
  let dropped = 0;
  for (const metric of ctx.metrics) {
    for (const dimension of settings.labels[metric.name] ?? []) {
      const { base, scale } = exportedName(metric);
      const dimBase = `${base}_by_${labelName(dimension)}`;
      const staged = new Collector();
      if (metric.kind === 'unique') {
        const windows = await Promise.all(UNIQUE_WINDOWS.map(([, days]) => windowTotals(ctx, org, [metric], dimension, range.end, days)));
        staged.family(dimBase, 'gauge', helpOf(metric, `distinct count by ${dimension} over the last 1, 7 and 30 days`));
        UNIQUE_WINDOWS.forEach(([window], i) => {
          for (const [value, partial] of windows[i]!.get(metric.name) ?? new Map()) {
            staged.add(dimBase, { name: dimBase, labels: [['org', org.id], [labelName(dimension), value], ['window', window]], value: statsOf(partial).distinct ?? 0 });
          }
        });
      } else if (metric.kind !== 'gauge') {
        const totals = await collectTotals(ctx, { orgId: org.id, metrics: [metric], dimName: dimension }, range.allTimePieces);
        for (const value of (totals.get(metric.name) ?? new Map()).keys()) {
          addTotals(staged, metric, dimBase, scale, [['org', org.id], [labelName(dimension), value]], totals, value);
        }
      }
      if (out.series + staged.series + 1 > settings.maxSeriesPerOrg) {
        // A family cut short would make sums over it wrong; it is left out whole.
        dropped += staged.series;
        ctx.log.warn({ org: org.id, metric: metric.name, dimension, series: staged.series, cap: settings.maxSeriesPerOrg }, 'prometheus export: series cap reached, dimension left out');
        continue;
      }
      for (const [name, family] of staged.families) out.families.set(name, family);
      for (const [name, lines] of staged.lines) out.lines.set(name, (out.lines.get(name) ?? '') + lines);
      out.series += staged.series;
    }
  }
  return dropped;
}

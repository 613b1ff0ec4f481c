import { parseAnswer } from '../../app/query/cached-query.ts';
import { compare, type CompareResponse } from '../../app/query/compare.ts';
import { overview, type OverviewResponse } from '../../app/query/overview.ts';
import { loadOrganization } from '../../app/query/scope.ts';
import type { AppContext } from '../../app/context.ts';
import { addLocalDays } from '../../domain/time-buckets.ts';
import { buildDailyReport, trendMetricsFor, type ActiveAlertRule, type DailyReport, type TrendPoint } from '../domain/daily-report.ts';
import { renderPlainText } from '../domain/plain-text.ts';
import type { TrendImage } from '../ports.ts';

/**
 * Builds one organization's report for one local date from the rollups as they are now (late
 * events already aggregated included): the compare answer for the day, 30-day daily trends.
 */

const TREND_DAYS = 30;

export interface RenderedReport {
  report: DailyReport;
  /** For the e-mail: images referenced as `cid:`. */
  emailHtml: string;
  /** For the preview and the archive: images inline as data URIs. */
  previewHtml: string;
  text: string;
  images: TrendImage[];
}

export async function buildReport(ctx: AppContext, input: { orgId: string; date?: string | undefined }): Promise<RenderedReport> {
  const org = await loadOrganization(ctx, input.orgId);
  const compared = parseAnswer<CompareResponse>(await compare(ctx, { orgId: org.id, date: input.date, refresh: true }));
  const date = compared.date;
  const trendNames = trendMetricsFor(compared.metrics);
  const trends = new Map<string, TrendPoint[]>();
  if (trendNames.length > 0) {
    const answer = await overview(ctx, {
      orgId: org.id,
      start: addLocalDays(date, -(TREND_DAYS - 1)),
      end: addLocalDays(date, 1),
      metric: trendNames,
      refresh: true,
    });
    const body = parseAnswer<OverviewResponse>(answer);
    for (const name of trendNames) trends.set(name, body.daily_trend.map((day) => ({ date: day.date.slice(0, 10), value: day.metrics[name] ?? null })));
  }
  const report = buildDailyReport({
    activeAlerts: await breachingRules(ctx, org.id),
    org: { id: org.id, name: org.name, timezone: org.timezone },
    date,
    generatedAt: new Date(ctx.clock.now()).toISOString(),
    metrics: compared.metrics,
    trends,
  });
  const { renderer } = ctx.reports;
  const images = await renderer.trendImages(report);
  const byMetric = new Map(images.map((image) => [image.metricName, image]));
  return {
    report,
    emailHtml: await renderer.html(report, (name) => (byMetric.has(name) ? `cid:${byMetric.get(name)!.cid}` : null)),
    previewHtml: await renderer.html(report, (name) => (byMetric.has(name) ? `data:image/png;base64,${byMetric.get(name)!.png.toString('base64')}` : null)),
    text: renderPlainText(report),
    images,
  };
}

/** Rules breaching now (the last evaluation after an aggregation pass), longest first. */
async function breachingRules(ctx: AppContext, orgId: string): Promise<ActiveAlertRule[]> {
  const rules = (await ctx.alerts.store.listRules(orgId)).filter((rule) => rule.state === 'breaching').sort((a, b) => a.stateSince - b.stateSince);
  return rules.map(({ definition: d, lastValue, stateSince }) => ({
    name: d.name,
    metric_name: d.metric,
    condition: `${d.condition} ${d.threshold}${d.compare_to === undefined ? '' : ` vs ${d.compare_to}`} over ${d.window}${d.dimension === undefined ? '' : ` where ${d.dimension.name} = ${d.dimension.value}`}`,
    value: lastValue,
    since: new Date(stateSince).toISOString(),
  }));
}

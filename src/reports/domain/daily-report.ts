import type { ChangeLevel, ChangeTone, GoodDirection } from '../../domain/compare.ts';

/**
 * The daily report as data (pure): what the e-mail, the plain text, the webhook and the JSON
 * preview all render. Built from a `compare` answer for the day plus 30-day daily trends.
 */

export interface ReportChange {
  previous: number | null;
  change: number | null;
  change_pct: number | null;
  direction: 1 | 0 | -1;
  level: ChangeLevel;
  tone: ChangeTone;
}

export interface ReportRow {
  metric_name: string;
  label: string;
  category: string;
  unit: string;
  kind: 'counter' | 'sum' | 'distribution' | 'unique' | 'gauge';
  good_direction: GoodDirection;
  current: number | null;
  p95: number | null;
  vs_1d: ReportChange;
  vs_7d: ReportChange;
  vs_30d: ReportChange;
}

export interface ReportMover {
  metric_name: string;
  label: string;
  unit: string;
  current: number | null;
  change_pct: number;
  level: ChangeLevel;
}

export interface ActiveAlertRule {
  name: string;
  metric_name: string;
  /** e.g. "above 100 over 24h", "change_pct 25 vs 7d over 24h". */
  condition: string;
  /** The value that started the breach (null when it had no data). */
  value: number | null;
  /** ISO instant the rule started breaching. */
  since: string;
}

export interface TrendPoint {
  date: string;
  value: number | null;
}

export interface DailyReport {
  org: { id: string; name: string; timezone: string };
  date: string;
  generated_at: string;
  summary: {
    good_movers: ReportMover[];
    bad_movers: ReportMover[];
    /** Changes vs yesterday at the critical level. */
    alerts: Array<ReportMover & { tone: ChangeTone }>;
    /** The organization's alert rules breaching when the report was generated, longest first. */
    active_alerts: ActiveAlertRule[];
    totals: Array<{ metric_name: string; label: string; unit: string; value: number | null }>;
  };
  sections: Array<{ category: string; title: string; rows: ReportRow[] }>;
  gauges: ReportRow[];
  trends: Array<{ metric_name: string; label: string; unit: string; points: TrendPoint[] }>;
}

export interface CompareEntry {
  metric_name: string;
  /** The catalog's display name (compare's `label`); absent from answers cached before it existed. */
  label?: string;
  category: string;
  unit: string;
  kind: ReportRow['kind'];
  good_direction: GoodDirection;
  current: number | null;
  p95: number | null;
  comparisons: Record<'1' | '7' | '30', ReportChange>;
}

const MOVERS = 3;
/** Headline totals, in this order, when the org has them. */
const HEADLINE = ['pages_processed', 'documents_processed', 'llm_calls', 'llm_usage', 'requests', 'request_errors', 'request_latency_ms', 'trace.count'];
const TREND_COUNT = 6;

export function humanize(name: string): string {
  const text = name.replace(/[._]+/g, ' ').replace(/\bms\b/g, '(ms)').replace(/\busd\b/gi, '(USD)').replace(/\bllm\b/gi, 'LLM').replace(/\bhitl\b/gi, 'HITL').replace(/\bapi\b/gi, 'API').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const change = (c: ReportChange): ReportChange => ({ previous: c.previous, change: c.change, change_pct: c.change_pct, direction: c.direction, level: c.level, tone: c.tone });

export function toRow(entry: CompareEntry): ReportRow {
  return {
    metric_name: entry.metric_name,
    // The dashboard's names, so the e-mail and the dashboard agree ("LLM calls (usage records)"
    // vs "LLM calls (all usage types)"); a metric without a label (a gauge) is humanized.
    label: entry.label !== undefined && entry.label !== entry.metric_name ? entry.label : humanize(entry.metric_name),
    category: entry.category,
    unit: entry.unit,
    kind: entry.kind,
    good_direction: entry.good_direction,
    current: entry.current,
    p95: entry.p95,
    vs_1d: change(entry.comparisons['1']),
    vs_7d: change(entry.comparisons['7']),
    vs_30d: change(entry.comparisons['30']),
  };
}

function movers(rows: readonly ReportRow[], tone: ChangeTone): ReportMover[] {
  return rows
    .filter((row) => row.vs_1d.tone === tone && row.vs_1d.change_pct !== null)
    .sort((a, b) => Math.abs(b.vs_1d.change_pct!) - Math.abs(a.vs_1d.change_pct!))
    .slice(0, MOVERS)
    .map((row) => ({ metric_name: row.metric_name, label: row.label, unit: row.unit, current: row.current, change_pct: row.vs_1d.change_pct!, level: row.vs_1d.level }));
}

export interface BuildReportInput {
  org: { id: string; name: string; timezone: string };
  date: string;
  generatedAt: string;
  metrics: readonly CompareEntry[];
  /** metric name → daily points, oldest first (the last 30 local days up to `date`). */
  trends: ReadonlyMap<string, TrendPoint[]>;
  /** Alert rules breaching at generation time. */
  activeAlerts?: readonly ActiveAlertRule[];
}

/** Metrics worth a small chart: the headline ones the org has, then the rest by catalog order. */
export function trendMetricsFor(metrics: readonly CompareEntry[]): string[] {
  const names = metrics.filter((m) => m.kind !== 'gauge').map((m) => m.metric_name);
  const headline = HEADLINE.filter((name) => names.includes(name));
  return [...headline, ...names.filter((name) => !headline.includes(name))].slice(0, TREND_COUNT);
}

export function buildDailyReport(input: BuildReportInput): DailyReport {
  const rows = input.metrics.map(toRow);
  const measured = rows.filter((row) => row.kind !== 'gauge');
  const sections = new Map<string, ReportRow[]>();
  for (const row of measured) sections.set(row.category, [...(sections.get(row.category) ?? []), row]);
  const byName = new Map(rows.map((row) => [row.metric_name, row]));
  const headline = HEADLINE.filter((name) => byName.has(name));
  const totalsFrom = (headline.length > 0 ? headline : measured.map((row) => row.metric_name)).slice(0, 6);
  return {
    org: input.org,
    date: input.date,
    generated_at: input.generatedAt,
    summary: {
      good_movers: movers(measured, 'good'),
      bad_movers: movers(measured, 'bad'),
      alerts: measured
        .filter((row) => row.vs_1d.level === 'critical' && row.vs_1d.change_pct !== null)
        .map((row) => ({ metric_name: row.metric_name, label: row.label, unit: row.unit, current: row.current, change_pct: row.vs_1d.change_pct!, level: row.vs_1d.level, tone: row.vs_1d.tone })),
      active_alerts: [...(input.activeAlerts ?? [])],
      totals: totalsFrom.map((name) => {
        const row = byName.get(name)!;
        return { metric_name: name, label: row.label, unit: row.unit, value: row.current };
      }),
    },
    sections: [...sections.entries()].map(([category, list]) => ({ category, title: humanize(category), rows: list })),
    gauges: rows.filter((row) => row.kind === 'gauge'),
    trends: [...input.trends.entries()].map(([name, points]) => ({
      metric_name: name,
      label: byName.get(name)?.label ?? humanize(name),
      unit: byName.get(name)?.unit ?? '',
      points,
    })),
  };
}

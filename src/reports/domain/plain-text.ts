import type { DailyReport, ReportRow } from './daily-report.ts';
import { formatChange, formatNumber, formatPct } from './format.ts';

/** The plain-text part of the e-mail (and the CLI's readable output). */

function rowLine(row: ReportRow): string {
  const current = formatNumber(row.current, row.unit) + (row.p95 !== null ? ` (p95 ${formatNumber(row.p95, row.unit)})` : '');
  return `  ${row.label}: ${current} | vs yesterday ${formatChange(row.vs_1d, row.unit)} | vs 7 days ${formatChange(row.vs_7d, row.unit)} | vs 30 days ${formatChange(row.vs_30d, row.unit)}`;
}

export function activeLine(a: DailyReport['summary']['active_alerts'][number]): string {
  return `${a.name} (${a.metric_name} ${a.condition}; ${a.value === null ? 'no data' : formatNumber(a.value, '')} since ${a.since})`;
}

export function renderPlainText(report: DailyReport): string {
  const lines: string[] = [];
  lines.push(`Daily metrics report — ${report.org.name} — ${report.date} (${report.org.timezone})`, '');
  lines.push('SUMMARY');
  for (const total of report.summary.totals) lines.push(`  ${total.label}: ${formatNumber(total.value, total.unit)}`);
  const mover = (m: { label: string; change_pct: number }) => `${m.label} ${formatPct(m.change_pct)}`;
  lines.push(`  Good news: ${report.summary.good_movers.map(mover).join(', ') || 'none'}`);
  lines.push(`  Bad news: ${report.summary.bad_movers.map(mover).join(', ') || 'none'}`);
  lines.push(
    `  Alerts: ${report.summary.alerts.map((a) => `${a.label} ${formatPct(a.change_pct)} ${a.level.toUpperCase()}${a.tone === 'neutral' ? '' : ` (${a.tone})`}`).join(', ') || 'none'}`,
  );
  lines.push(`  Alert rules breaching: ${report.summary.active_alerts.map(activeLine).join('; ') || 'none'}`);
  for (const section of report.sections) {
    lines.push('', section.title.toUpperCase());
    for (const row of section.rows) lines.push(rowLine(row));
  }
  if (report.gauges.length > 0) {
    lines.push('', 'GAUGES');
    for (const row of report.gauges) lines.push(rowLine(row));
  }
  lines.push('', 'Changes compare the day with the day before, 7 and 30 days before; N/A where there is no history.');
  return `${lines.join('\n')}\n`;
}

import type { DailyReport } from './daily-report.ts';
import { formatChange, formatNumber, formatPct } from './format.ts';
import { activeLine } from './plain-text.ts';

/** Slack-compatible `text` and `blocks` for the webhook body (pure). */

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

export function renderSlack(report: DailyReport): SlackMessage {
  const title = `Daily metrics report — ${report.org.name} — ${report.date}`;
  const totals = report.summary.totals.map((t) => `*${t.label}*: ${formatNumber(t.value, t.unit)}`).join('\n');
  const movers = (list: DailyReport['summary']['good_movers']) => list.map((m) => `${m.label} ${formatPct(m.change_pct)}`).join(', ') || 'none';
  const alerts = report.summary.alerts.map((a) => `${a.level === 'critical' ? ':red_circle:' : ':large_yellow_circle:'} ${a.label} ${formatPct(a.change_pct)} (${a.tone})`).join('\n') || 'none';
  const breaching = report.summary.active_alerts.map((a) => `:rotating_light: ${activeLine(a)}`).join('\n') || 'none';
  const table = report.sections
    .flatMap((s) => s.rows)
    .map((row) => `${row.label}: ${formatNumber(row.current, row.unit)} (${formatChange(row.vs_1d, row.unit)} vs yesterday)`)
    .join('\n');
  return {
    text: `${title}\nGood: ${movers(report.summary.good_movers)}\nBad: ${movers(report.summary.bad_movers)}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: totals || 'No data' } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Good news:* ${movers(report.summary.good_movers)}\n*Bad news:* ${movers(report.summary.bad_movers)}` } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Alerts:*\n${alerts}`.slice(0, 3000) } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Alert rules breaching:*\n${breaching}`.slice(0, 3000) } },
      { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${table.slice(0, 2900)}\`\`\`` } },
    ],
  };
}

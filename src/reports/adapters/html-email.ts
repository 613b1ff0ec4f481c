import mjml2html from 'mjml';
import type { DailyReport, ReportChange, ReportRow } from '../domain/daily-report.ts';
import { formatChange, formatNumber, formatPct } from '../domain/format.ts';
import { activeLine } from '../domain/plain-text.ts';

/**
 * The HTML e-mail, written in MJML (responsive, table-based markup that e-mail clients render)
 * and compiled here. Every number carries `data-*` attributes with its raw value, so the test
 * (and anyone scripting) can read the report back exactly.
 */

const COLORS = { good: '#137333', bad: '#c5221f', neutral: '#5f6368' } as const;
const LEVEL_BG = { ok: '', warning: '#fff4e5', critical: '#fde8e8' } as const;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const raw = (value: number | null) => (value === null ? '' : String(value));

function changeCell(row: ReportRow, period: '1' | '7' | '30', change: ReportChange): string {
  const style = [`color:${COLORS[change.tone]}`, 'padding:6px 8px', 'border-bottom:1px solid #eceff3'];
  if (change.level !== 'ok') style.push(`background:${LEVEL_BG[change.level]}`);
  const badge = change.level === 'ok' ? '' : `<br><span style="font-size:10px;font-weight:700;text-transform:uppercase">${change.level}</span>`;
  return (
    `<td style="${style.join(';')}" data-metric="${escape(row.metric_name)}" data-period="${period}" data-previous="${raw(change.previous)}" ` +
    `data-change="${raw(change.change)}" data-change-pct="${raw(change.change_pct)}" data-level="${change.level}" data-tone="${change.tone}">` +
    `${escape(formatChange(change, row.unit))}${badge}</td>`
  );
}

function rowHtml(row: ReportRow): string {
  const p95 = row.p95 !== null ? `<br><span style="color:#5f6368;font-size:11px">avg · p95 ${escape(formatNumber(row.p95, row.unit))}</span>` : '';
  return (
    `<tr data-row="${escape(row.metric_name)}">` +
    `<td style="padding:6px 8px;border-bottom:1px solid #eceff3">${escape(row.label)}</td>` +
    `<td style="padding:6px 8px;border-bottom:1px solid #eceff3;font-weight:700;text-align:right" data-metric="${escape(row.metric_name)}" data-period="current" data-value="${raw(row.current)}" data-p95="${raw(row.p95)}">` +
    `${escape(formatNumber(row.current, row.unit))}${p95}</td>` +
    changeCell(row, '1', row.vs_1d) +
    changeCell(row, '7', row.vs_7d) +
    changeCell(row, '30', row.vs_30d) +
    `</tr>`
  );
}

const HEAD =
  '<tr style="background:#f1f3f6;text-align:left"><th style="padding:6px 8px;width:26%">Metric</th><th style="padding:6px 8px;text-align:right;width:17%">Current</th>' +
  '<th style="padding:6px 8px;width:19%">vs Yesterday</th><th style="padding:6px 8px;width:19%">vs 7 days</th><th style="padding:6px 8px;width:19%">vs 30 days</th></tr>';

function table(rows: readonly ReportRow[], title: string): string {
  return `<mj-text padding="12px 0 4px" font-size="15px" font-weight="700">${escape(title)}</mj-text>
<mj-table font-size="12px" padding="0" cellpadding="0" table-layout="fixed" width="100%">${HEAD}${rows.map(rowHtml).join('')}</mj-table>`;
}

function moverList(list: DailyReport['summary']['good_movers'], tone: 'good' | 'bad'): string {
  if (list.length === 0) return '<span style="color:#5f6368">none</span>';
  return list
    .map((m) => `<span style="color:${COLORS[tone]}" data-mover="${tone}" data-metric="${escape(m.metric_name)}" data-change-pct="${m.change_pct}">${escape(m.label)} ${escape(formatPct(m.change_pct))}</span>`)
    .join(' · ');
}

export interface RenderHtmlOptions {
  /** Where a trend image is loaded from: `cid:` in the e-mail, a data URI in the preview. */
  imageSrc: (metricName: string) => string | null;
}

export function renderReportMjml(report: DailyReport, options: RenderHtmlOptions): string {
  const totals = report.summary.totals
    .map(
      (t) =>
        `<td style="padding:6px 10px;text-align:center" data-total="${escape(t.metric_name)}" data-value="${raw(t.value)}"><div style="font-size:11px;color:#5f6368">${escape(t.label)}</div>` +
        `<div style="font-size:18px;font-weight:700">${escape(formatNumber(t.value, t.unit))}</div></td>`,
    )
    .join('');
  const alerts =
    report.summary.alerts.length === 0
      ? '<span style="color:#5f6368">none</span>'
      : report.summary.alerts
          .map((a) => `<span style="color:${COLORS[a.tone]}" data-alert="${escape(a.metric_name)}" data-level="${a.level}">${escape(a.label)} ${escape(formatPct(a.change_pct))} <b>${a.level.toUpperCase()}</b></span>`)
          .join(' · ');
  const breaching =
    report.summary.active_alerts.length === 0
      ? '<span style="color:#5f6368">none</span>'
      : report.summary.active_alerts
          .map((a) => `<span style="color:${COLORS.bad}" data-active-alert="${escape(a.name)}">${escape(activeLine(a))}</span>`)
          .join('<br>');
  const trends = report.trends
    .map((trend) => {
      const src = options.imageSrc(trend.metric_name);
      const last = [...trend.points].reverse().find((p) => p.value !== null);
      const image = src === null ? '' : `<img src="${escape(src)}" width="260" height="70" alt="${escape(trend.label)}, last 30 days" style="display:block;border:0">`;
      return `<td style="padding:6px;vertical-align:top" data-trend="${escape(trend.metric_name)}"><div style="font-size:12px;font-weight:700">${escape(trend.label)}</div>${image}<div style="font-size:11px;color:#5f6368">30 days · latest ${escape(formatNumber(last?.value ?? null, trend.unit))}</div></td>`;
    })
    .reduce<string[]>((rows, cell, index) => {
      if (index % 2 === 0) rows.push(cell);
      else rows[rows.length - 1] += cell;
      return rows;
    }, [])
    .map((cells) => `<tr>${cells}</tr>`)
    .join('');
  return `<mjml>
  <mj-head>
    <mj-title>${escape(`${report.org.name} — daily report ${report.date}`)}</mj-title>
    <mj-preview>${escape(`Daily metrics for ${report.date}`)}</mj-preview>
    <mj-attributes><mj-all font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif" color="#202124" /></mj-attributes>
  </mj-head>
  <mj-body background-color="#f4f6f9" width="720px">
    <mj-section background-color="#1f3b73" padding="16px 20px">
      <mj-column>
        <mj-text color="#ffffff" font-size="20px" font-weight="700" padding="0">Daily metrics report</mj-text>
        <mj-text color="#dbe4f5" font-size="13px" padding="4px 0 0">${escape(report.org.name)} · ${escape(report.date)} (${escape(report.org.timezone)})</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="12px 20px">
      <mj-column>
        <mj-text font-size="15px" font-weight="700" padding="0 0 6px">Executive summary</mj-text>
        <mj-table padding="0" font-size="12px"><tr>${totals}</tr></mj-table>
        <mj-text font-size="13px" padding="8px 0 0"><b>Good news:</b> ${moverList(report.summary.good_movers, 'good')}</mj-text>
        <mj-text font-size="13px" padding="4px 0 0"><b>Bad news:</b> ${moverList(report.summary.bad_movers, 'bad')}</mj-text>
        <mj-text font-size="13px" padding="4px 0 0"><b>Alerts:</b> ${alerts}</mj-text>
        <mj-text font-size="13px" padding="4px 0 0"><b>Alert rules breaching:</b> ${breaching}</mj-text>
      </mj-column>
    </mj-section>
    ${
      trends === ''
        ? ''
        : `<mj-section background-color="#ffffff" padding="4px 20px"><mj-column><mj-text font-size="15px" font-weight="700" padding="8px 0 4px">Last 30 days</mj-text><mj-table padding="0">${trends}</mj-table></mj-column></mj-section>`
    }
    <mj-section background-color="#ffffff" padding="4px 20px 16px">
      <mj-column>
        ${report.sections.map((s) => table(s.rows, s.title)).join('\n')}
        ${report.gauges.length > 0 ? table(report.gauges, 'Gauges') : ''}
        ${report.sections.length === 0 && report.gauges.length === 0 ? '<mj-text>No data for this day.</mj-text>' : ''}
      </mj-column>
    </mj-section>
    <mj-section padding="8px 20px">
      <mj-column>
        <mj-text font-size="11px" color="#5f6368">Green is good news, red is bad news (by each metric's good direction); the badge marks a change of 10 % (warning) or 25 % (critical). N/A: no history to compare with. Generated ${escape(report.generated_at)} by meterboard.</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;
}

export function renderReportHtml(report: DailyReport, options: RenderHtmlOptions): string {
  const { html, errors } = mjml2html(renderReportMjml(report, options), { validationLevel: 'soft' });
  if (errors.length > 0 && html === '') throw new Error(`report template: ${errors.map((e) => e.formattedMessage).join('; ')}`);
  return html;
}

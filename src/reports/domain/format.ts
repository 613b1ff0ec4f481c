import type { ReportChange } from './daily-report.ts';

/** Number formatting shared by the HTML, the plain text and the Slack rendering (pure, en-US). */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const twoDecimals = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatNumber(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return 'N/A';
  if (unit === 'USD') return usd.format(value);
  if (unit === 'ms') return `${twoDecimals.format(value)} ms`;
  return Number.isInteger(value) ? integer.format(value) : twoDecimals.format(value);
}

export function formatPct(pct: number): string {
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

const ARROWS = { 1: '↑', 0: '→', [-1]: '↓' } as const;

/** "↑ +12 (+9.5%)", "→ no change", or "N/A" without history. */
export function formatChange(change: ReportChange, unit: string): string {
  if (change.previous === null || change.change === null) return 'N/A';
  if (change.direction === 0) return '→ no change';
  const sign = change.change > 0 ? '+' : '-';
  const amount = `${sign}${formatNumber(Math.abs(change.change), unit)}`;
  return `${ARROWS[change.direction]} ${amount}${change.change_pct === null ? '' : ` (${formatPct(change.change_pct)})`}`;
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const dollars = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const cents = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });

export type Unit = 'count' | 'usd' | 'ms' | 'percent' | 'tokens' | string;

export function isDollarUnit(unit: string | undefined): boolean {
  return unit !== undefined && /^(usd|\$|dollars?)$/i.test(unit);
}

export function formatCount(value: number): string {
  return Number.isInteger(value) ? integer.format(value) : decimal.format(value);
}

export function formatCompact(value: number): string {
  return Math.abs(value) < 10_000 ? formatCount(value) : compact.format(value);
}

export function formatUsd(value: number): string {
  return Math.abs(value) > 0 && Math.abs(value) < 1 ? cents.format(value) : dollars.format(value);
}

export function formatMs(value: number): string {
  return value >= 10_000 ? `${decimal.format(value / 1000)} s` : `${decimal.format(value)} ms`;
}

export function formatPercent(value: number): string {
  return `${decimal.format(value)}%`;
}

export function formatValue(value: number | null | undefined, unit?: Unit): string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'N/A';
  if (isDollarUnit(unit)) return formatUsd(value);
  if (unit === 'ms') return formatMs(value);
  if (unit === 'percent' || unit === '%') return formatPercent(value);
  return formatCount(value);
}

export interface Change {
  /** Percent change; null when the previous period is zero (no base to compare with). */
  pct: number | null;
  direction: 1 | 0 | -1;
}

export function changeBetween(current: number, previous: number): Change {
  const direction = current > previous ? 1 : current < previous ? -1 : 0;
  if (previous === 0) return { pct: null, direction };
  return { pct: ((current - previous) / Math.abs(previous)) * 100, direction };
}

export function formatSignedPercent(pct: number): string {
  const sign = pct > 0 ? '+' : '';
  return `${sign}${decimal.format(pct)}%`;
}

export function humanizeMetric(name: string): string {
  const known: Record<string, string> = {
    llm_usage: 'LLM cost',
    llm_calls: 'LLM calls',
    hitl_reviews: 'HITL reviews',
    hitl_completions: 'HITL completions',
    etl_pipeline_executions: 'ETL pipeline executions',
    deployed_api_requests: 'Deployed API requests',
    request_latency_ms: 'Request latency',
    request_cost_usd: 'Request cost',
  };
  const label = known[name];
  if (label) return label;
  const words = name
    .replace(/[._]/g, ' ')
    .replace(/\bms\b/, '(ms)')
    .replace(/\busd\b/, '($)')
    .replace(/\b(llm|api|etl|hitl)\b/gi, (acronym) => acronym.toUpperCase())
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function humanizeCategory(category: string): string {
  const words = category.replace(/[._-]/g, ' ').replace(/\b(llm|api|etl|hitl)\b/gi, (acronym) => acronym.toUpperCase());
  return words.charAt(0).toUpperCase() + words.slice(1);
}

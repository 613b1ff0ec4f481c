import { expect } from 'vitest';

/**
 * An oracle for query answers written independently of src/: it reads events as they were
 * sent, applies SPEC §2's metric rules literally (for the metrics the tests ask about),
 * keeps one event per id and the latest file_execution per execution_id + file_name, and
 * labels buckets with its own Intl-based calendar code. Plain loops; exact quantiles.
 */

export type SentEvent = Record<string, string | number | boolean | null> & { id: string; type: string; timestamp: string };

type Attrs = Record<string, string | number | boolean | null>;
type Kind = 'counter' | 'sum' | 'distribution' | 'gauge';

interface Rule {
  event: string;
  kind: Kind;
  where?: (attrs: Attrs) => boolean;
  value?: string;
}

export const RULES: Record<string, Rule> = {
  requests: { event: 'api_request', kind: 'counter' },
  request_errors: { event: 'api_request', kind: 'counter', where: (a) => Number(a['status_code']) >= 400 },
  request_latency_ms: { event: 'api_request', kind: 'distribution', value: 'latency_ms' },
  request_cost_usd: { event: 'api_request', kind: 'sum', value: 'cost_usd' },
  llm_calls: { event: 'llm_call', kind: 'counter', where: (a) => a['usage_type'] === 'llm' },
  challenges: { event: 'llm_call', kind: 'counter', where: (a) => a['usage_type'] === 'llm' && a['reason'] === 'challenge' },
  llm_usage: { event: 'llm_call', kind: 'sum', where: (a) => a['usage_type'] === 'llm', value: 'cost_usd' },
  'llm.latency_ms': { event: 'llm_call', kind: 'distribution', value: 'latency_ms' },
  'llm.tokens': { event: 'llm_call', kind: 'sum', value: 'total_tokens' },
  pages_processed: { event: 'page_usage', kind: 'sum', value: 'pages' },
  failed_pages: { event: 'page_usage', kind: 'sum', value: 'failed_pages' },
  documents_processed: { event: 'file_execution', kind: 'counter', where: (a) => a['status'] === 'COMPLETED' },
  prompt_executions: { event: 'workflow_execution', kind: 'counter' },
  deployed_api_requests: { event: 'workflow_execution', kind: 'counter', where: (a) => a['pipeline_type'] === 'api' },
  etl_pipeline_executions: { event: 'workflow_execution', kind: 'counter', where: (a) => a['pipeline_type'] === 'etl' },
  total_users: { event: 'gauge', kind: 'gauge', where: (a) => a['name'] === 'total_users', value: 'value' },
};
export const ORACLE_METRICS = Object.keys(RULES);

const ENVELOPE = new Set(['id', 'type', 'timestamp', 'project', 'tag']);

export interface OracleEvent {
  id: string;
  type: string;
  ts: number;
  project: string;
  tag: string;
  attrs: Attrs;
}

/** Events as stored: first copy of each id, latest file_execution state per file. */
export function oracleEvents(sent: readonly SentEvent[]): OracleEvent[] {
  const byId = new Map<string, OracleEvent>();
  for (const event of sent) {
    if (byId.has(event.id)) continue;
    const attrs: Attrs = {};
    for (const [key, value] of Object.entries(event)) if (!ENVELOPE.has(key)) attrs[key] = value;
    byId.set(event.id, {
      id: event.id,
      type: event.type,
      ts: Date.parse(event.timestamp),
      project: typeof event['project'] === 'string' ? event['project'] : 'default',
      tag: typeof event['tag'] === 'string' ? event['tag'] : '',
      attrs,
    });
  }
  const latestFile = new Map<string, OracleEvent>();
  const others: OracleEvent[] = [];
  for (const event of byId.values()) {
    if (event.type !== 'file_execution') {
      others.push(event);
      continue;
    }
    const key = `${event.attrs['execution_id']}|${event.attrs['file_name']}`;
    const previous = latestFile.get(key);
    if (!previous || event.ts > previous.ts) latestFile.set(key, event);
  }
  return [...others, ...latestFile.values()].sort((a, b) => a.ts - b.ts);
}

export interface Reading {
  ts: number;
  value: number;
  event: OracleEvent;
}

export function readings(events: readonly OracleEvent[], metric: string, filter: { project?: string; tag?: string } = {}): Reading[] {
  const rule = RULES[metric];
  if (!rule) throw new Error(`the oracle has no rule for ${metric}`);
  const out: Reading[] = [];
  for (const event of events) {
    if (event.type !== rule.event) continue;
    if (filter.project !== undefined && event.project !== filter.project) continue;
    if (filter.tag !== undefined && event.tag !== filter.tag) continue;
    if (rule.where && !rule.where(event.attrs)) continue;
    const value = rule.value === undefined ? 1 : event.attrs[rule.value];
    if (typeof value !== 'number') continue;
    out.push({ ts: event.ts, value, event });
  }
  return out;
}

export interface OracleTotal {
  kind: Kind;
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  sorted: number[];
  last: number | null;
}

export function total(metric: string, list: readonly Reading[]): OracleTotal {
  const values = list.map((r) => r.value);
  let last: Reading | null = null;
  for (const reading of list) if (!last || reading.ts > last.ts || (reading.ts === last.ts && reading.value > last.value)) last = reading;
  return {
    kind: RULES[metric]!.kind,
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: values.length ? Math.min(...values) : null,
    max: values.length ? Math.max(...values) : null,
    sorted: [...values].sort((a, b) => a - b),
    last: last?.value ?? null,
  };
}

export function within(list: readonly Reading[], from: number, to: number): Reading[] {
  return list.filter((r) => r.ts >= from && r.ts < to);
}

/** The value the API reports for a total: count for counters, sum for sums/distributions, last reading for gauges. */
export function apiValue(t: OracleTotal): number {
  if (t.kind === 'gauge') return t.last ?? 0;
  return t.sum;
}

export function expectClose(actual: number | null | undefined, expected: number | null, label: string): void {
  if (expected === null) {
    expect(actual ?? null, label).toBeNull();
    return;
  }
  expect(actual, label).not.toBeNull();
  expect(Math.abs((actual as number) - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
}

/** A sketch quantile must lie within 1 % of the exact order statistics around rank q·(n−1). */
export function expectQuantile(actual: number | null | undefined, sorted: readonly number[], q: number, label: string): void {
  if (sorted.length === 0) {
    expect(actual ?? null, label).toBeNull();
    return;
  }
  const rank = q * (sorted.length - 1);
  const low = sorted[Math.floor(rank)]!;
  const high = sorted[Math.ceil(rank)]!;
  expect(actual, label).not.toBeNull();
  expect(actual as number, `${label} low`).toBeGreaterThanOrEqual(low * 0.99 - 1e-9);
  expect(actual as number, `${label} high`).toBeLessThanOrEqual(high * 1.01 + 1e-9);
}

// ---- independent calendar labels -----------------------------------------------------------

const formats = new Map<string, Intl.DateTimeFormat>();

export function localParts(ts: number, zone: string) {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(zone, format);
  }
  const p: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(ts))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const offsetMinutes = Math.round((Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!) - (ts - (((ts % 1000) + 1000) % 1000))) / 60_000);
  return { year: p['year']!, month: p['month']!, day: p['day']!, hour: p['hour']!, offsetMinutes };
}

const two = (n: number) => String(n).padStart(2, '0');

export function dayLabel(ts: number, zone: string): string {
  const p = localParts(ts, zone);
  return `${p.year}-${two(p.month)}-${two(p.day)}`;
}

/** Matches the API's hour-bucket timestamp, offset included (the repeated 02:00 differs by offset). */
export function hourLabel(ts: number, zone: string): string {
  const p = localParts(ts, zone);
  const offset = p.offsetMinutes === 0 ? 'Z' : `${p.offsetMinutes < 0 ? '-' : '+'}${two(Math.floor(Math.abs(p.offsetMinutes) / 60))}:${two(Math.abs(p.offsetMinutes) % 60)}`;
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:00:00${offset}`;
}

export function weekLabel(ts: number, zone: string): string {
  const p = localParts(ts, zone);
  const date = new Date(Date.UTC(p.year, p.month - 1, p.day));
  const weekday = (date.getUTCDay() + 6) % 7; // Monday = 0
  const monday = new Date(date.getTime() - weekday * 86_400_000);
  return `${monday.getUTCFullYear()}-${two(monday.getUTCMonth() + 1)}-${two(monday.getUTCDate())}`;
}

export function monthLabel(ts: number, zone: string): string {
  const p = localParts(ts, zone);
  return `${p.year}-${two(p.month)}`;
}

export function groupBy<T>(list: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of list) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** Unique metrics: the event types and counted attribute of each (SPEC §2, issue 9). */
export const DISTINCT_RULES: Record<string, { events: readonly string[]; value: string }> = {
  active_users: { events: ['llm_call', 'api_request', 'chat_message'], value: 'user_id' },
  active_workflows: { events: ['workflow_execution'], value: 'workflow_id' },
};

/** The exact distinct values (compared as text) of a unique metric in [from, to). */
export function distinctValues(events: readonly OracleEvent[], metric: string, from: number, to: number, filter: { project?: string; tag?: string } = {}): Set<string> {
  const rule = DISTINCT_RULES[metric];
  if (!rule) throw new Error(`the oracle has no distinct rule for ${metric}`);
  const values = new Set<string>();
  for (const event of events) {
    if (event.ts < from || event.ts >= to || !rule.events.includes(event.type)) continue;
    if (filter.project !== undefined && event.project !== filter.project) continue;
    if (filter.tag !== undefined && event.tag !== filter.tag) continue;
    const value = event.attrs[rule.value];
    if (value === null || value === undefined || String(value) === '') continue;
    values.add(String(value));
  }
  return values;
}

/** A distinct count: exact up to 1,000 values (the sketch's exact form), within 2 % above. */
export function expectDistinct(actual: number | null | undefined, exact: number, label: string): void {
  expect(actual, label).not.toBeNull();
  if (exact <= 1000) expect(actual, label).toBe(exact);
  else expect(Math.abs((actual as number) - exact) / exact, `${label}: ${actual} vs exact ${exact}`).toBeLessThanOrEqual(0.02);
}

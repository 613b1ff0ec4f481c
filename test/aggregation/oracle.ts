import type { MetricDefinition } from '../../src/domain/metrics/definition.ts';
import type { Granularity, RollupRow } from '../../src/domain/rollup-types.ts';

/**
 * A brute-force oracle written independently of src/: it reads the events exactly as they
 * were sent (JSON objects), applies the product rules literally (one event per id, the latest
 * file_execution per execution_id + file_name, metric filters, '(none)' for a missing
 * dimension) and buckets with its own Intl-based calendar arithmetic. Simple loops, no sketches.
 */

export type SentEvent = Record<string, string | number | boolean | null> & { id: string; type: string; timestamp: string };

export interface OracleCell {
  kind: MetricDefinition['kind'];
  count: number;
  sum: number;
  min: number;
  max: number;
  values: number[];
  lastTs: number;
  lastValue: number;
  /** Unique metrics: the distinct values (textual) seen. */
  distinct: Set<string>;
}

const ENVELOPE = new Set(['id', 'type', 'timestamp', 'project', 'tag']);
const formatters = new Map<string, Intl.DateTimeFormat>();

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const partsCache = new Map<string, LocalParts>();

export function localParts(ts: number, timeZone: string): LocalParts {
  const cacheKey = `${timeZone}|${ts}`;
  const cached = partsCache.get(cacheKey);
  if (cached) return cached;
  if (partsCache.size > 500_000) partsCache.clear();
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(ts))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const result = { year: parts['year']!, month: parts['month']!, day: parts['day']!, hour: parts['hour']!, minute: parts['minute']!, second: parts['second']! };
  partsCache.set(cacheKey, result);
  return result;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The instant at which the local hour containing `ts` began (test zones shift only at whole hours). */
export function oracleHourStart(ts: number, timeZone: string): number {
  const p = localParts(ts, timeZone);
  return ts - (p.minute * 60 + p.second) * 1000 - (((ts % 1000) + 1000) % 1000);
}

function dateLabel(p: Pick<LocalParts, 'year' | 'month' | 'day'>): string {
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** Label of the bucket of `granularity` holding `ts`: the hour's instant, the local date, the week's Monday, or YYYY-MM. */
export function oracleLabel(ts: number, granularity: Granularity, timeZone: string): string {
  if (granularity === 'hour') return String(oracleHourStart(ts, timeZone));
  const p = localParts(ts, timeZone);
  if (granularity === 'day') return dateLabel(p);
  if (granularity === 'month') return `${p.year}-${pad(p.month)}`;
  const noon = new Date(Date.UTC(p.year, p.month - 1, p.day, 12));
  const sinceMonday = (noon.getUTCDay() + 6) % 7;
  const monday = new Date(noon.getTime() - sinceMonday * 86_400_000);
  return dateLabel({ year: monday.getUTCFullYear(), month: monday.getUTCMonth() + 1, day: monday.getUTCDate() });
}

/** Checks a stored bucket start is where such a bucket must begin in the zone; returns a reason or null. */
export function misalignment(bucketStart: number, granularity: Granularity, timeZone: string): string | null {
  const p = localParts(bucketStart, timeZone);
  if (p.minute !== 0 || p.second !== 0 || bucketStart % 1000 !== 0) return 'not on a local hour';
  if (granularity === 'hour') return null;
  if (p.hour !== 0) return 'not at local midnight';
  if (granularity === 'week' && oracleLabel(bucketStart, 'week', timeZone) !== dateLabel(p)) return 'not a Monday';
  if (granularity === 'month' && p.day !== 1) return 'not the first of the month';
  // The instant just before must belong to the previous local date.
  if (dateLabel(localParts(bucketStart - 1, timeZone)) === dateLabel(p)) return 'not the first instant of its date';
  return null;
}

function attrsOf(event: SentEvent): Record<string, string | number | boolean | null> {
  const attrs: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(event)) if (!ENVELOPE.has(key)) attrs[key] = value;
  if (event.type === 'llm_call' && attrs['total_tokens'] === undefined) {
    const input = attrs['input_tokens'];
    const output = attrs['output_tokens'];
    if (typeof input === 'number' || typeof output === 'number') attrs['total_tokens'] = Number(input ?? 0) + Number(output ?? 0);
  }
  return attrs;
}

function matches(condition: unknown, actual: unknown): boolean {
  if (condition === null || typeof condition !== 'object') {
    if (condition === null) return actual === null || actual === undefined;
    return actual !== null && actual !== undefined && String(actual) === String(condition);
  }
  const c = condition as Record<string, unknown>;
  const n = typeof actual === 'number' ? actual : NaN;
  if (c['in'] !== undefined && !(c['in'] as unknown[]).some((v) => matches(v, actual))) return false;
  if (c['eq'] !== undefined && !matches(c['eq'], actual)) return false;
  if (c['ne'] !== undefined && matches(c['ne'], actual)) return false;
  if (c['gte'] !== undefined && !(n >= (c['gte'] as number))) return false;
  if (c['gt'] !== undefined && !(n > (c['gt'] as number))) return false;
  if (c['lte'] !== undefined && !(n <= (c['lte'] as number))) return false;
  if (c['lt'] !== undefined && !(n < (c['lt'] as number))) return false;
  return true;
}

/** Events that count: first of each id, and only the latest file_execution of each execution_id + file_name. */
export function effectiveEvents(sent: readonly SentEvent[]): SentEvent[] {
  const byId = new Map<string, SentEvent>();
  for (const event of sent) if (!byId.has(event.id)) byId.set(event.id, event);
  const latest = new Map<string, SentEvent>();
  const result: SentEvent[] = [];
  for (const event of byId.values()) {
    if (event.type !== 'file_execution') {
      result.push(event);
      continue;
    }
    const key = `${event['execution_id']}|${event['file_name']}`;
    const previous = latest.get(key);
    if (!previous || Date.parse(event.timestamp) > Date.parse(previous.timestamp)) latest.set(key, event);
  }
  return result.concat([...latest.values()]);
}

export const cellKey = (granularity: Granularity, label: string, metric: string, project: string, tag: string, dimName: string, dimValue: string) =>
  [granularity, label, metric, project, tag, dimName, dimValue].join('|');

export function rowKey(row: RollupRow, timeZone: string): string {
  return cellKey(row.granularity, oracleLabel(row.bucketStart, row.granularity, timeZone), row.metric, row.project, row.tag, row.dimName, row.dimValue);
}

/** Every expected rollup cell (all tiers, global and per dimension) of the sent events in the zone. */
export function computeOracle(sent: readonly SentEvent[], metrics: readonly MetricDefinition[], timeZone: string): Map<string, OracleCell> {
  const cells = new Map<string, OracleCell>();
  const declaredGaugeNames = new Set(metrics.filter((m) => m.kind === 'gauge').map((m) => String(m.where?.['name'])));
  for (const event of effectiveEvents(sent)) {
    const ts = Date.parse(event.timestamp);
    const attrs = attrsOf(event);
    const project = typeof event['project'] === 'string' ? event['project'] : 'default';
    const tag = typeof event['tag'] === 'string' ? event['tag'] : '';
    const fed: Array<{ metric: MetricDefinition; value: number; text?: string }> = [];
    for (const metric of metrics) {
      if (!(metric.events ?? [metric.event]).includes(event.type)) continue;
      if (!Object.entries(metric.where ?? {}).every(([attribute, condition]) => matches(condition, attrs[attribute]))) continue;
      if (metric.kind === 'unique') {
        const counted = attrs[metric.value!];
        if (counted !== null && counted !== undefined && String(counted) !== '') fed.push({ metric, value: 0, text: String(counted) });
        continue;
      }
      const raw = metric.kind === 'counter' ? 1 : attrs[metric.value!];
      if (typeof raw !== 'number') continue;
      fed.push({ metric, value: raw });
    }
    if (event.type === 'gauge' && typeof attrs['name'] === 'string' && !declaredGaugeNames.has(attrs['name'])) {
      // Undeclared gauge names become a gauge metric of that (already well-formed) name.
      const dynamic: MetricDefinition = { name: attrs['name'], kind: 'gauge', event: 'gauge', value: 'value', dimensions: [], unit: '', category: '', description: '' };
      if (typeof attrs['value'] === 'number') fed.push({ metric: dynamic, value: attrs['value'] });
    }
    const labels = (['hour', 'day', 'week', 'month'] as const).map((granularity) => [granularity, oracleLabel(ts, granularity, timeZone)] as const);
    for (const { metric, value, text } of fed) {
      const dims: Array<[string, string]> = [['', '']];
      for (const name of metric.dimensions) {
        const v = attrs[name];
        dims.push([name, v === null || v === undefined ? '(none)' : String(v)]);
      }
      for (const [granularity, label] of labels) {
        for (const [dimName, dimValue] of dims) {
          // Layout of ADR 0006: global cells per (project, tag), dimension cells across every project and tag ('', '').
          const key = dimName === '' ? cellKey(granularity, label, metric.name, project, tag, dimName, dimValue) : cellKey(granularity, label, metric.name, '', '', dimName, dimValue);
          let cell = cells.get(key);
          if (!cell) {
            cell = { kind: metric.kind, count: 0, sum: 0, min: Infinity, max: -Infinity, values: [], lastTs: -Infinity, lastValue: NaN, distinct: new Set() };
            cells.set(key, cell);
          }
          if (text !== undefined) {
            // Unique rows count the events and keep the values' set; sum, min and max stay 0.
            cell.count += 1;
            cell.min = 0;
            cell.max = 0;
            cell.distinct.add(text);
            continue;
          }
          cell.count += 1;
          cell.sum += value;
          cell.min = Math.min(cell.min, value);
          cell.max = Math.max(cell.max, value);
          if (metric.kind === 'distribution') cell.values.push(value);
          if (ts > cell.lastTs || (ts === cell.lastTs && value > cell.lastValue)) {
            cell.lastTs = ts;
            cell.lastValue = value;
          }
        }
      }
    }
  }
  return cells;
}

/** The exact rank-based quantile a DDSketch approximates: the value at rank floor(q * (n - 1)). */
export function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

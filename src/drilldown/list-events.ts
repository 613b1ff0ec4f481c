import type { AppContext } from '../app/context.ts';
import { selectMetrics } from '../app/query/metric-selection.ts';
import { resolveScope, type CommonQueryInput } from '../app/query/scope.ts';
import { formatInstant } from '../app/query/time-input.ts';
import { ValidationError } from '../domain/errors.ts';
import type { AttributeValue, StoredEvent } from '../domain/event.ts';
import { compileMetrics } from '../domain/metrics/evaluate.ts';
import { MAX_RESPONSE_BYTES } from '../domain/response-cap.ts';

/**
 * The raw events behind a number (drill-down): newest first over [start, end), filtered like
 * the metrics (project, tag), by event type, by the metric they feed (its event type and
 * conditions), and by attribute equality (`filter.<attribute>=value`), one page at a time.
 *
 * The range is read backwards in growing windows (an hour, then four times larger each
 * time), so a page near "now" reads a little, not the whole range. The cursor is the last
 * event returned (timestamp and id); the next page holds strictly older events.
 */

export const DEFAULT_EVENTS_LIMIT = 50;
export const MAX_EVENTS_LIMIT = 200;
const FIRST_WINDOW_MS = 3_600_000;

export interface ListEventsInput extends CommonQueryInput {
  type?: string | undefined;
  metric?: string | undefined;
  /** attribute → required value (compared as text). */
  filters?: Record<string, string>;
  cursor?: string | undefined;
  limit?: number | undefined;
  /** With a sum metric: only events whose value is not zero (the failed pages among all page records). */
  nonZero?: boolean | undefined;
}

export interface EventItem {
  id: string;
  type: string;
  timestamp: string;
  project: string;
  tag: string;
  attributes: Record<string, AttributeValue>;
}

export interface ListEventsResponse {
  start_date: string;
  end_date: string;
  events: EventItem[];
  next_cursor: string | null;
}

interface Position {
  ts: number;
  id: string;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.ts}:${position.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  const ts = Number(text.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(ts)) throw ValidationError.field('cursor', 'is not a cursor this endpoint returned');
  return { ts, id: text.slice(colon + 1) };
}

/** Newest first; equal instants by id, descending. */
function newerFirst(a: StoredEvent, b: StoredEvent): number {
  return b.ts - a.ts || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function isOlderThan(event: StoredEvent, position: Position): boolean {
  return event.ts < position.ts || (event.ts === position.ts && event.id < position.id);
}

export async function listEvents(ctx: AppContext, input: ListEventsInput): Promise<ListEventsResponse> {
  const scope = await resolveScope(ctx, input);
  const limit = input.limit ?? DEFAULT_EVENTS_LIMIT;
  const after = input.cursor ? decodeCursor(input.cursor) : null;
  const types = input.type ? input.type.split(',').map((t) => t.trim()).filter((t) => t !== '') : [];
  const metric = input.metric ? (await selectMetrics(ctx, scope.org.id, [input.metric])).metrics[0]! : null;
  const feedsMetric = metric === null ? null : compileMetrics([metric], { dynamicGauges: metric.kind === 'gauge' && metric.where === undefined });
  const eventTypes = metric !== null ? [metric.event] : types;
  const filters = Object.entries(input.filters ?? {});
  if (input.nonZero && (metric === null || metric.value === undefined || metric.kind === 'unique')) {
    throw ValidationError.field('nonzero', 'needs a metric that sums or measures an attribute (metric=…)');
  }
  const valueAttribute = input.nonZero ? metric!.value! : null;
  const keep = (event: StoredEvent): boolean => {
    if (after !== null && !isOlderThan(event, after)) return false;
    if (types.length > 0 && !types.includes(event.type)) return false;
    if (valueAttribute !== null) {
      const amount = event.attrs[valueAttribute];
      if (typeof amount !== 'number' || amount === 0) return false;
    }
    for (const [attribute, value] of filters) {
      const actual = event.attrs[attribute];
      if (actual === undefined || actual === null || String(actual) !== value) return false;
    }
    if (feedsMetric !== null) {
      let matched = false;
      feedsMetric.forEachMatch(event, (compiled) => (matched ||= compiled.definition.name === metric!.name));
      if (!matched) return false;
    }
    return true;
  };

  const found: StoredEvent[] = [];
  let windowEnd = after === null ? scope.end : Math.min(scope.end, after.ts + 1);
  let span = FIRST_WINDOW_MS;
  while (found.length <= limit && windowEnd > scope.start) {
    const windowStart = Math.max(scope.start, windowEnd - span);
    const batch = await ctx.eventReader.scanEvents({
      orgId: scope.org.id,
      from: windowStart,
      to: windowEnd,
      ...(eventTypes.length > 0 ? { types: eventTypes } : {}),
      ...(scope.project !== undefined ? { project: scope.project } : {}),
      ...(scope.tag !== undefined ? { tag: scope.tag } : {}),
    });
    found.push(...batch.filter(keep).sort(newerFirst));
    windowEnd = windowStart;
    span *= 4;
  }
  const { events, cut } = withinByteCap(found.slice(0, limit).map((event) => ({
    id: event.id,
    type: event.type,
    timestamp: formatInstant(event.ts, scope.zone),
    project: event.project,
    tag: event.tag,
    attributes: event.attrs,
  })));
  const last = found[events.length - 1];
  return {
    start_date: formatInstant(scope.start, scope.zone),
    end_date: formatInstant(scope.end, scope.zone),
    events,
    next_cursor: (cut || found.length > limit) && last !== undefined ? encodeCursor(last) : null,
  };
}

/** Room left under the byte cap for the page's envelope (dates, cursor, brackets). */
const ENVELOPE_BYTES = 1024;

/**
 * A page of big events (200 attributes of 8 KB each are allowed) could run to hundreds of
 * megabytes: the page ends early, with a cursor, once the next event would pass the response
 * byte cap. The first event is always kept, so paging always moves on.
 */
function withinByteCap(items: EventItem[]): { events: EventItem[]; cut: boolean } {
  let bytes = ENVELOPE_BYTES;
  for (let i = 0; i < items.length; i += 1) {
    bytes += Buffer.byteLength(JSON.stringify(items[i]), 'utf8') + 1;
    if (bytes > MAX_RESPONSE_BYTES && i > 0) return { events: items.slice(0, i), cut: true };
  }
  return { events: items, cut: false };
}

// Calendar math in an arbitrary IANA zone using only Intl, so day and hour boundaries are the
// selected zone's, not the browser's (seed 000's off-by-one-day labels west of UTC).

export type Preset = '24h' | '7d' | '30d' | '90d' | 'custom';
export type Granularity = 'hour' | 'day' | 'week';

export const PRESETS: { id: Preset; label: string; days: number }[] = [
  { id: '24h', label: '24h', days: 1 },
  { id: '7d', label: '7d', days: 7 },
  { id: '30d', label: '30d', days: 30 },
  { id: '90d', label: '90d', days: 90 },
];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface ZonedDate {
  year: number;
  month: number;
  day: number;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(tz: string): Intl.DateTimeFormat {
  let formatter = partsFormatters.get(tz);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(tz, formatter);
  }
  return formatter;
}

export function zonedParts(instant: number, tz: string) {
  const parts: Record<string, number> = {};
  for (const part of partsFormatter(tz).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** Milliseconds the zone is ahead of UTC at `instant`. */
export function zoneOffset(instant: number, tz: string): number {
  const p = zonedParts(instant, tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The UTC instant of a wall-clock time in `tz` (the later one when DST repeats it). */
export function zonedToInstant(date: ZonedDate, hour: number, tz: string, minute = 0): number {
  const guess = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  const first = guess - zoneOffset(guess, tz);
  return guess - zoneOffset(first, tz);
}

export function addDays(date: ZonedDate, days: number): ZonedDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

export function zonedDate(instant: number, tz: string): ZonedDate {
  const { year, month, day } = zonedParts(instant, tz);
  return { year, month, day };
}

export function formatYmd(date: ZonedDate): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.year}-${pad(date.month)}-${pad(date.day)}`;
}

export function parseYmd(text: string): ZonedDate | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return null;
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

export interface TimeRange {
  preset: Preset;
  /** Chart window, aligned to bucket boundaries in the zone: [start, end). */
  start: number;
  end: number;
  /** Where data can exist: the window cut at the current minute. Cards sum [start, dataEnd). */
  dataEnd: number;
  /** The previous period of equal length, cut at the same elapsed point. */
  previousStart: number;
  previousEnd: number;
  granularity: Granularity;
  /** Seed 002 preset of the same window (cacheable server-side), or custom with start/end. */
  dashboardRange: DashboardRange;
}

export type DashboardRange = '24h' | '7d' | '1m' | '3m' | 'custom';

const DASHBOARD_PRESETS: Record<Preset, DashboardRange> = { '24h': '24h', '7d': '7d', '30d': '1m', '90d': '3m', custom: 'custom' };

export interface CustomDates {
  from: string;
  to: string;
}

export function granularityFor(spanMs: number): Granularity {
  if (spanMs <= 2 * DAY + HOUR) return 'hour';
  if (spanMs <= 92 * DAY + HOUR) return 'day';
  return 'week';
}

export function computeRange(preset: Preset, now: number, tz: string, custom?: CustomDates): TimeRange {
  let start: number;
  let end: number;
  if (preset === '24h') {
    const p = zonedParts(now, tz);
    const hourStart = zonedToInstant(p, p.hour, tz);
    start = hourStart - 23 * HOUR;
    end = hourStart + HOUR;
  } else if (preset === 'custom' && custom) {
    const today = zonedDate(now, tz);
    const from = parseYmd(custom.from) ?? today;
    const to = parseYmd(custom.to) ?? today;
    const [first, last] = formatYmd(from) <= formatYmd(to) ? [from, to] : [to, from];
    start = zonedToInstant(first, 0, tz);
    end = zonedToInstant(addDays(last, 1), 0, tz);
  } else {
    const days = PRESETS.find((item) => item.id === preset)?.days ?? 7;
    const today = zonedDate(now, tz);
    start = zonedToInstant(addDays(today, -(days - 1)), 0, tz);
    end = zonedToInstant(addDays(today, 1), 0, tz);
  }
  const nowCeil = Math.ceil(now / 60_000) * 60_000;
  const dataEnd = Math.max(start, Math.min(end, nowCeil));
  const length = end - start;
  return {
    preset,
    start,
    end,
    dataEnd,
    previousStart: start - length,
    previousEnd: dataEnd - length,
    granularity: granularityFor(length),
    dashboardRange: preset === 'custom' && !custom ? '7d' : DASHBOARD_PRESETS[preset],
  };
}

export function iso(instant: number): string {
  return new Date(instant).toISOString();
}

/** Bucket timestamps: ISO instants, bare dates or offset-less wall times (taken in `tz`). */
export function parseBucketTime(text: string, tz: string): number {
  const dateOnly = parseYmd(text);
  if (dateOnly) return zonedToInstant(dateOnly, 0, tz);
  const wall = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(text);
  if (wall) {
    const date = { year: Number(wall[1]), month: Number(wall[2]), day: Number(wall[3]) };
    return zonedToInstant(date, Number(wall[4]), tz, Number(wall[5]));
  }
  return Date.parse(text);
}

const labelFormatters = new Map<string, Intl.DateTimeFormat>();

function labelFormatter(tz: string, kind: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const cacheKey = `${tz}|${kind}`;
  let formatter = labelFormatters.get(cacheKey);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(undefined, { timeZone: tz, ...options });
    labelFormatters.set(cacheKey, formatter);
  }
  return formatter;
}

/** Short axis label of a bucket, in the selected zone. */
export function formatBucket(instant: number, granularity: Granularity, tz: string): string {
  if (granularity === 'hour') {
    return labelFormatter(tz, 'hour', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(instant);
  }
  return labelFormatter(tz, 'day', { month: 'short', day: 'numeric' }).format(instant);
}

/** Unambiguous local bucket name for tables and CSV: `YYYY-MM-DD` or `YYYY-MM-DD HH:mm`. */
export function bucketKey(instant: number, granularity: Granularity, tz: string): string {
  const p = zonedParts(instant, tz);
  const date = formatYmd(p);
  if (granularity !== 'hour') return date;
  return `${date} ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}

/** Full date and time, in the selected zone, for tooltips, tables and activity. */
export function formatDateTime(instant: number, tz: string): string {
  return labelFormatter(tz, 'datetime', { dateStyle: 'medium', timeStyle: 'short' }).format(instant);
}

export function formatRelative(instant: number, now: number): string {
  const seconds = Math.round((instant - now) / 1000);
  const formatter = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return formatter.format(seconds, 'second');
  if (abs < 3600) return formatter.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return formatter.format(Math.round(seconds / 3600), 'hour');
  return formatter.format(Math.round(seconds / 86_400), 'day');
}

export function timeZones(extra: string[]): string[] {
  const zones = new Set<string>(['UTC', ...extra]);
  try {
    for (const zone of Intl.supportedValuesOf('timeZone')) zones.add(zone);
  } catch {
    // Older engines: the org's zone, UTC and the browser's zone are still offered.
  }
  zones.add(Intl.DateTimeFormat().resolvedOptions().timeZone);
  return [...zones].sort();
}

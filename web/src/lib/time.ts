// Calendar math in the selected IANA zone, so day and hour boundaries are the zone's, not the
// browser's (seed 000's off-by-one-day labels west of UTC).
import { addLocalDays, floorBucket, localDate, parseLocalDate, startOfLocalDate, zoneOffsetMinutes } from '../../../src/domain/time-buckets.ts';

export { addLocalDays, localDate };

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

// Zone math is the domain's (the same module the server buckets with); this file keeps only the
// dashboard's ranges and its display formatting.

/** Whether `text` is a real `YYYY-MM-DD` calendar date. */
function isLocalDate(text: string): boolean {
  try {
    parseLocalDate(text);
    return true;
  } catch {
    return false;
  }
}

/** The UTC instant of a wall-clock time in `tz` (the later one when DST repeats it). */
function wallToInstant(year: number, month: number, day: number, hour: number, minute: number, tz: string): number {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const offset = (instant: number) => zoneOffsetMinutes(instant, tz) * 60_000;
  return guess - offset(guess - offset(guess));
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
    const hourStart = floorBucket(now, 'hour', tz);
    start = hourStart - 23 * HOUR;
    end = hourStart + HOUR;
  } else if (preset === 'custom' && custom) {
    const today = localDate(now, tz);
    const from = isLocalDate(custom.from) ? custom.from : today;
    const to = isLocalDate(custom.to) ? custom.to : today;
    const [first, last] = from <= to ? [from, to] : [to, from];
    start = startOfLocalDate(first, tz);
    end = startOfLocalDate(addLocalDays(last, 1), tz);
  } else {
    const days = PRESETS.find((item) => item.id === preset)?.days ?? 7;
    const today = localDate(now, tz);
    start = startOfLocalDate(addLocalDays(today, -(days - 1)), tz);
    end = startOfLocalDate(addLocalDays(today, 1), tz);
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

/** [start, end) of a local calendar day in `tz` (23 or 25 hours on DST days). */
export function localDayBounds(date: string, tz: string): { start: number; end: number } {
  return { start: startOfLocalDate(date, tz), end: startOfLocalDate(addLocalDays(date, 1), tz) };
}

export function iso(instant: number): string {
  return new Date(instant).toISOString();
}

/** Bucket timestamps: ISO instants, bare dates or offset-less wall times (taken in `tz`). */
export function parseBucketTime(text: string, tz: string): number {
  if (isLocalDate(text)) return startOfLocalDate(text, tz);
  const wall = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(text);
  if (wall) return wallToInstant(Number(wall[1]), Number(wall[2]), Number(wall[3]), Number(wall[4]), Number(wall[5]), tz);
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
  const date = localDate(instant, tz);
  if (granularity !== 'hour') return date;
  const wall = new Date(instant + zoneOffsetMinutes(instant, tz) * 60_000);
  return `${date} ${String(wall.getUTCHours()).padStart(2, '0')}:${String(wall.getUTCMinutes()).padStart(2, '0')}`;
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

/** Legacy IANA links the browser's list still carries, and the canonical names that replaced them. */
const CANONICAL_ZONES: Record<string, string> = {
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Rangoon': 'Asia/Yangon',
  'Europe/Kiev': 'Europe/Kyiv',
  'America/Godthab': 'America/Nuuk',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Pacific/Truk': 'Pacific/Chuuk',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Enderbury': 'Pacific/Kanton',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
  'America/Catamarca': 'America/Argentina/Catamarca',
  'America/Cordoba': 'America/Argentina/Cordoba',
  'America/Jujuy': 'America/Argentina/Jujuy',
  'America/Mendoza': 'America/Argentina/Mendoza',
  'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Louisville': 'America/Kentucky/Louisville',
  'Asia/Dacca': 'Asia/Dhaka',
  'Asia/Thimbu': 'Asia/Thimphu',
  'Asia/Ujung_Pandang': 'Asia/Makassar',
  'Asia/Ulan_Bator': 'Asia/Ulaanbaatar',
  'Asia/Macao': 'Asia/Macau',
  'Europe/Uzhgorod': 'Europe/Kyiv',
  'Europe/Zaporozhye': 'Europe/Kyiv',
  'Africa/Asmera': 'Africa/Asmara',
};

export function canonicalZone(zone: string): string {
  return CANONICAL_ZONES[zone] ?? zone;
}

export function timeZones(extra: string[]): string[] {
  const zones = new Set<string>(['UTC', ...extra.map(canonicalZone)]);
  try {
    for (const zone of Intl.supportedValuesOf('timeZone')) zones.add(canonicalZone(zone));
  } catch {
    // Older engines: the org's zone, UTC and the browser's zone are still offered.
  }
  zones.add(canonicalZone(Intl.DateTimeFormat().resolvedOptions().timeZone));
  return [...zones].filter((zone) => zone !== '').sort();
}

import type { RangeBound } from '../app/backfill.ts';
import { UsageError } from './exit.ts';

/** Parses a CLI date/instant: `YYYY-MM-DD` (read as UTC midnight) or full ISO 8601. */
export function parseInstantOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms)) throw new UsageError(`--${name}: expected an ISO 8601 date or instant, got "${text}"`);
  return ms;
}

/**
 * A range bound: a bare `YYYY-MM-DD` stays a date, read as the start of that day in each
 * organization's own zone (as the API reads dates); anything else is an ISO 8601 instant.
 */
export function parseRangeBoundOption(name: string, text: string | undefined): RangeBound | undefined {
  if (text === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const utc = new Date(`${text}T00:00:00Z`);
    if (Number.isNaN(utc.getTime()) || utc.toISOString().slice(0, 10) !== text) throw new UsageError(`--${name}: "${text}" is not a calendar date`);
    return { localDate: text };
  }
  return parseInstantOption(name, text);
}

export function parsePositiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`--${name}: expected a positive integer, got "${text}"`);
  return value;
}

import { UsageError } from './exit.ts';

/** Parses a CLI date/instant: `YYYY-MM-DD` (local midnight in the org zone is applied later) or full ISO 8601. */
export function parseInstantOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms)) throw new UsageError(`--${name}: expected an ISO 8601 date or instant, got "${text}"`);
  return ms;
}

export function parsePositiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`--${name}: expected a positive integer, got "${text}"`);
  return value;
}

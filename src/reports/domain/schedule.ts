import { addLocalDays, localDate } from '../../domain/time-buckets.ts';

/**
 * When a daily report is due (pure). The report for a local date is due once that date has
 * ended in the organization's zone, i.e. from its next local midnight on — whatever the day's
 * length (23 or 25 hours on daylight-saving days). The ledger keys deliveries by date, so a
 * check that runs every few minutes sends each date once.
 */

/** The local date whose report is due at `now`: the day that ended at the last local midnight. */
export function reportDateDue(now: number, timeZone: string): string {
  return addLocalDays(localDate(now, timeZone), -1);
}

const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 3_600_000;

/** Exponential backoff after the n-th failed attempt (1 min, 2 min, 4 min … capped at 1 h). */
export function retryDelayMs(attempts: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * The quarter hours by which both engines index when each event was stored (ADR 0028): an
 * index on (org_id, ts / 900000, generation | txid) lets a steady pass seek to the events stored
 * in an hour since its fold watermark, where (org_id, ts, …) made it walk every event the hour
 * already held. Quarters, so that the hours of every zone (:30 and :45 offsets included) are
 * whole buckets.
 */
export const QUARTER_MS = 900_000;

/** More quarters than this and a range is walked instead: each quarter is a seek of its own. */
const MAX_QUARTERS = 8;

/**
 * The quarter numbers (`ts / 900000`, as the indexes compute them) that [from, to) covers, or
 * null when there are more than eight or the range starts before 1970 (where the engines'
 * truncating integer division is not the floor).
 */
export function quartersOf(from: number, to: number): number[] | null {
  if (from < 0 || to <= from) return null;
  const first = Math.floor(from / QUARTER_MS);
  const last = Math.floor((to - 1) / QUARTER_MS);
  if (last - first >= MAX_QUARTERS) return null;
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

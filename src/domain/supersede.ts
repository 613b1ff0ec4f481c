/**
 * The supersede rule (SPEC: file_execution statuses replace each other). Events sharing a
 * supersede key replace each other: only the most recent counts — latest `ts`, then latest
 * `receivedAt`, then the larger id compared as UTF-8 bytes (what PostgreSQL's "C" collation
 * and SQLite's BINARY order agree on). Adapters only store and read the current winner (the
 * key's head) atomically; every decision is made here.
 */

export interface SupersedeContender {
  id: string;
  ts: number;
  receivedAt: number;
}

/** Unicode code point order, which is UTF-8 byte order (plain `<` compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  if (i < a.length) return 1;
  return j < b.length ? -1 : 0;
}

/** Positive when `a` is more recent than `b` (it would supersede `b`), negative when older, 0 for the same event. */
export function compareRecency(a: SupersedeContender, b: SupersedeContender): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.receivedAt !== b.receivedAt) return a.receivedAt < b.receivedAt ? -1 : 1;
  return compareCodePoints(a.id, b.id);
}

export interface SupersedeOutcome<C extends SupersedeContender> {
  /** The event that counts for the key after the arrivals. */
  winner: C | SupersedeContender;
  /** Arrivals that lose: stored already superseded. */
  losers: C[];
  /** The previous head when an arrival beats it: it must flip to superseded. */
  dethroned: SupersedeContender | null;
  /** Whether the head must be rewritten (the winner is an arrival). */
  headChanged: boolean;
  /** Instants of events whose visibility changed (the new winner, the dethroned head): their rollup hours change. */
  changedAt: number[];
}

/**
 * Decides one key: `head` is the stored winner (null when the key is new), `arrivals` the
 * newly stored events of that key (no duplicates of stored ids: a resent event is not an
 * arrival). Order of arrivals does not matter.
 */
export function resolveSupersede<C extends SupersedeContender>(head: SupersedeContender | null, arrivals: readonly C[]): SupersedeOutcome<C> {
  let best: C | null = null;
  for (const arrival of arrivals) if (best === null || compareRecency(arrival, best) > 0) best = arrival;
  if (best === null) {
    if (head === null) throw new Error('resolveSupersede needs a head or at least one arrival');
    return { winner: head, losers: [], dethroned: null, headChanged: false, changedAt: [] };
  }
  const arrivalWins = head === null || compareRecency(best, head) > 0;
  const winner = arrivalWins ? best : head!;
  const losers = arrivals.filter((arrival) => arrival !== winner);
  const dethroned = arrivalWins ? head : null;
  const changedAt = arrivalWins ? [best.ts, ...(dethroned === null ? [] : [dethroned.ts])] : [];
  return { winner, losers, dethroned, headChanged: arrivalWins, changedAt };
}

/**
 * Hours an insert marks dirty: the hour of every newly stored event (a losing one included,
 * so the hour is recomputed and provably unchanged) plus the hours whose visible event
 * changed. Sorted, distinct.
 */
export function dirtyHoursAfterInsert(
  insertedAt: Iterable<number>,
  outcomes: Iterable<Pick<SupersedeOutcome<SupersedeContender>, 'changedAt'>>,
  hourOf: (ts: number) => number,
): number[] {
  const hours = new Set<number>();
  for (const ts of insertedAt) hours.add(hourOf(ts));
  for (const outcome of outcomes) for (const ts of outcome.changedAt) hours.add(hourOf(ts));
  return [...hours].sort((a, b) => a - b);
}

/**
 * Of those hours, the ones that lost an event they counted (a dethroned head): adding the new
 * events to their stored rollups would keep the old head, so they are folded again from all
 * their events (ADR 0019). Sorted, distinct.
 */
export function refoldHoursAfterInsert(
  outcomes: Iterable<Pick<SupersedeOutcome<SupersedeContender>, 'dethroned'>>,
  hourOf: (ts: number) => number,
): number[] {
  const hours = new Set<number>();
  for (const outcome of outcomes) if (outcome.dethroned !== null) hours.add(hourOf(outcome.dethroned.ts));
  return [...hours].sort((a, b) => a - b);
}

import { isEmptyDistinct, mergeDistinct, sparseAdded } from './distinct-sketch.ts';
import type { RollupPartial } from './rollup-types.ts';
import { FLOAT_COUNTS } from './sketch.ts';
import { applySketchDelta, sketchDelta, type SketchDelta } from './sketch-delta.ts';

/**
 * A coarse bucket's partial after some of its finer buckets were recomputed, derived from the
 * stored coarse partial alone — without reading the bucket's other finer rows, whose number
 * grows with the stored history (ADR 0007).
 *
 * With `stored = others ⊕ before` (before: what the recomputed finer buckets held, merged;
 * after: what they hold now), the result is `others ⊕ after`. Count and sketch bins are whole
 * counts, so they subtract exactly; sum subtracts in floating point (exact for whole and
 * dyadic values, otherwise within a rounding of the full merge). Min, max, the gauge reading
 * and the distinct sketch cannot be subtracted: the outcome is exact only when `after`
 * dominates `before` (the usual case: new events only add) or when `stored` shows that the
 * extreme came from the other buckets; otherwise the caller re-merges the bucket from its
 * finer rows (`remerge`).
 */
export type ContributionOutcome =
  | { kind: 'unchanged' }
  | { kind: 'set'; partial: RollupPartial }
  | { kind: 'delete' }
  | { kind: 'remerge' };

const UNCHANGED: ContributionOutcome = { kind: 'unchanged' };
const REMERGE: ContributionOutcome = { kind: 'remerge' };
const DELETE: ContributionOutcome = { kind: 'delete' };

export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Same partial, bit for bit (a recomputed finer bucket that did not change feeds nothing new). */
export function samePartial(a: RollupPartial, b: RollupPartial): boolean {
  return (
    a.count === b.count &&
    Object.is(a.sum, b.sum) &&
    Object.is(a.min, b.min) &&
    Object.is(a.max, b.max) &&
    a.lastValue === b.lastValue &&
    a.lastTs === b.lastTs &&
    bytesEqual(a.sketch, b.sketch) &&
    bytesEqual(a.hll, b.hll)
  );
}

/** A partial with a last reading (both halves set); no object per reading (three per row of a pass). */
function hasReading(p: RollupPartial | undefined): p is RollupPartial & { lastTs: number; lastValue: number } {
  return p !== undefined && p.lastTs !== null && p.lastValue !== null;
}

/** The merge rule of rollup-math: later timestamp wins, on a tie the larger value. */
function later(a: RollupPartial, b: RollupPartial): boolean {
  return a.lastTs! > b.lastTs! || (a.lastTs === b.lastTs && a.lastValue! > b.lastValue!);
}

/** The partial holding the later reading of two (undefined when neither has one). */
function latest(a: RollupPartial | undefined, b: RollupPartial | undefined): RollupPartial | undefined {
  if (!hasReading(a)) return hasReading(b) ? b : undefined;
  if (!hasReading(b)) return a;
  return later(b, a) ? b : a;
}

/**
 * min or max of `others ⊕ after`; `better(x, y)` is true when x is strictly more extreme.
 * undefined when it cannot be known without the other finer rows.
 */
function extreme(stored: number, before: number | undefined, after: number | undefined, better: (x: number, y: number) => boolean): number | undefined {
  const withAfter = after !== undefined && better(after, stored) ? after : stored;
  if (before === undefined) return withAfter;
  // after at least as extreme as before: before's value can only have been matched or beaten.
  if (after !== undefined && !better(before, after)) return withAfter;
  // stored strictly beyond before: the extreme came from the other buckets and is still there.
  if (better(stored, before)) return withAfter;
  return undefined;
}

/** Whether the distinct sketch `after` holds every value of `before` (a union cannot forget one). */
function keepsAll(before: Uint8Array, after: Uint8Array): boolean {
  const missing = sparseAdded(after, before);
  return missing === null ? bytesEqual(mergeDistinct([before, after]), after) : isEmptyDistinct(missing);
}

const lower = (x: number, y: number) => x < y;
const higher = (x: number, y: number) => x > y;

/**
 * What replacing `before` by `after` does to any coarser partial containing it, with the parts
 * that do not depend on the coarser partial worked out once: a steady pass applies the same
 * contribution to the day, week and month (ADR 0015), so the sketches' bin difference and the
 * distinct sketch's check are computed once, not per tier.
 */
export interface Contribution {
  readonly before: RollupPartial | undefined;
  readonly after: RollupPartial | undefined;
  readonly unchanged: boolean;
  /** The sketches' bin difference, computed on first use (null: float counts, re-merge). */
  sketch?: SketchDelta | null;
  /** Whether `after`'s distinct sketch still holds every value of `before`'s, computed on first use. */
  hllKeepsBefore?: boolean;
  /** The hashes `after`'s distinct sketch adds to `before`'s (null: not sparse, merge all of `after`). */
  hllAdded?: Uint8Array | null;
}

export function contributionOf(before: RollupPartial | undefined, after: RollupPartial | undefined): Contribution {
  const unchanged = (before === undefined && after === undefined) || (before !== undefined && after !== undefined && samePartial(before, after));
  return { before, after, unchanged };
}

export function replaceContribution(
  stored: RollupPartial | undefined,
  before: RollupPartial | undefined,
  after: RollupPartial | undefined,
): ContributionOutcome {
  return applyContribution(stored, contributionOf(before, after));
}

/** `replaceContribution(stored, c.before, c.after)`, reusing what `c` already worked out. */
export function applyContribution(stored: RollupPartial | undefined, c: Contribution): ContributionOutcome {
  const { before, after } = c;
  if (c.unchanged) return UNCHANGED;
  if (stored === undefined) {
    // Nothing stored means nothing fed the bucket before; anything else is an inconsistency.
    return before === undefined ? { kind: 'set', partial: after! } : REMERGE;
  }
  // Every stored row counts at least one event; the count proves whether others exist.
  if (stored.count < 1 || (before !== undefined && before.count < 1) || (after !== undefined && after.count < 1)) return REMERGE;
  if (before !== undefined) {
    if (stored.count < before.count) return REMERGE;
    if (stored.count === before.count) return after === undefined ? DELETE : { kind: 'set', partial: after };
  }

  const min = extreme(stored.min, before?.min, after?.min, lower);
  const max = extreme(stored.max, before?.max, after?.max, higher);
  if (min === undefined || max === undefined) return REMERGE;

  let reading: RollupPartial | undefined;
  if (!hasReading(before) || (hasReading(after) && !later(before, after))) reading = latest(stored, after);
  else if (hasReading(stored) && later(stored, before)) reading = latest(stored, after);
  else return REMERGE;

  let sketch: Uint8Array | null = null;
  if (stored.sketch !== null) {
    if (((stored.sketch[0] ?? 0) & FLOAT_COUNTS) !== 0) return REMERGE;
    if (c.sketch === undefined) c.sketch = sketchDelta(before?.sketch ?? null, after?.sketch ?? null);
    sketch = c.sketch === null ? null : applySketchDelta(stored.sketch, c.sketch);
    if (sketch === null) return REMERGE;
  } else if (before?.sketch || after?.sketch) {
    return REMERGE;
  }

  let hll: Uint8Array | null = null;
  if (stored.hll !== null) {
    if (before?.hll) {
      // A union cannot forget values: only when `after` still holds all of `before`'s.
      c.hllKeepsBefore ??= after?.hll != null && keepsAll(before.hll, after.hll);
      if (!c.hllKeepsBefore) return REMERGE;
    }
    if (after?.hll) {
      // The stored union already holds `before`'s values: only what `after` adds can change it.
      if (c.hllAdded === undefined) c.hllAdded = before?.hll ? sparseAdded(before.hll, after.hll) : null;
      if (c.hllAdded === null) hll = mergeDistinct([stored.hll, after.hll]);
      else hll = isEmptyDistinct(c.hllAdded) ? stored.hll : mergeDistinct([stored.hll, c.hllAdded]);
    } else {
      hll = stored.hll;
    }
  } else if (before?.hll || after?.hll) {
    return REMERGE;
  }

  return {
    kind: 'set',
    partial: {
      count: stored.count - (before?.count ?? 0) + (after?.count ?? 0),
      sum: stored.sum - (before?.sum ?? 0) + (after?.sum ?? 0),
      min,
      max,
      sketch,
      lastValue: reading === undefined ? null : reading.lastValue,
      lastTs: reading === undefined ? null : reading.lastTs,
      hll,
    },
  };
}

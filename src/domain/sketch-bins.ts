/**
 * Helpers of src/domain/sketch.ts over a sketch's bins as (key, count) runs in key order:
 * merging many sketches densely, and DDSketch's rank walk.
 */

export interface BinRuns {
  keys: ArrayLike<number>;
  counts: ArrayLike<number>;
  length: number;
}

/** Widest key range merged densely (64k bins, 576 KB); wider ones, values spanning ~1e±280, use a map. */
const MAX_DENSE_SPAN = 1 << 16;

/**
 * Bin counts summed over many sketches in one dense array indexed by key (keys of one metric's
 * values sit in a narrow range): no hash map and no sort per merge, which were most of a
 * series request's CPU. Keys are added in ascending order per sketch and sums run in input
 * order, so the result equals a map-based merge bit for bit.
 */
export class DenseBins {
  /** Key of counts[0]. */
  private offset = 0;
  private counts = new Float64Array(0);
  /** A bin seen with a zero count still counts as present, like a map entry would. */
  private seen = new Uint8Array(0);
  private lo = Infinity;
  private hi = -Infinity;

  /** False when the keys would span more than MAX_DENSE_SPAN bins (the caller falls back to a map). */
  add(bins: BinRuns): boolean {
    if (bins.length === 0) return true;
    const first = bins.keys[0] as number;
    const last = bins.keys[bins.length - 1] as number;
    if (!this.cover(Math.min(first, this.lo), Math.max(last, this.hi))) return false;
    const { keys, counts, length } = bins;
    for (let i = 0; i < length; i++) {
      const at = (keys[i] as number) - this.offset;
      this.counts[at] = (this.counts[at] as number) + (counts[i] as number);
      this.seen[at] = 1;
    }
    return true;
  }

  private cover(lo: number, hi: number): boolean {
    if (hi - lo + 1 > MAX_DENSE_SPAN) return false;
    if (lo >= this.offset && hi < this.offset + this.counts.length) {
      this.lo = lo;
      this.hi = hi;
      return true;
    }
    // Room on both sides, so a few sketches reaching further do not reallocate each time.
    const span = hi - lo + 1;
    const offset = lo - span;
    const counts = new Float64Array(span * 3);
    const seen = new Uint8Array(span * 3);
    if (this.hi >= this.lo) {
      counts.set(this.counts.subarray(this.lo - this.offset, this.hi - this.offset + 1), this.lo - offset);
      seen.set(this.seen.subarray(this.lo - this.offset, this.hi - this.offset + 1), this.lo - offset);
    }
    this.offset = offset;
    this.counts = counts;
    this.seen = seen;
    this.lo = lo;
    this.hi = hi;
    return true;
  }

  private outKeys = new Float64Array(64);
  private outCounts = new Float64Array(64);

  /**
   * The merged runs, in arrays this accumulator reuses: read them before its next `take`.
   * The accumulator is empty again afterwards.
   */
  take(): BinRuns {
    if (this.hi - this.lo + 1 > this.outKeys.length) {
      this.outKeys = new Float64Array((this.hi - this.lo + 1) * 2);
      this.outCounts = new Float64Array((this.hi - this.lo + 1) * 2);
    }
    let length = 0;
    for (let key = this.lo; key <= this.hi; key++) {
      const at = key - this.offset;
      if (this.seen[at] === 1) {
        this.outKeys[length] = key;
        this.outCounts[length] = this.counts[at] as number;
        length++;
        this.counts[at] = 0;
        this.seen[at] = 0;
      }
    }
    this.clear();
    return { keys: this.outKeys, counts: this.outCounts, length };
  }

  /** Forgets the bins (after a failed `add`, whose counts may be partly in). */
  reset(): void {
    if (this.hi >= this.lo) {
      this.counts.fill(0, this.lo - this.offset, this.hi - this.offset + 1);
      this.seen.fill(0, this.lo - this.offset, this.hi - this.offset + 1);
    }
    this.clear();
  }

  private clear(): void {
    this.lo = Infinity;
    this.hi = -Infinity;
  }
}

/** DenseStore.keyAtRank over (key, count) runs in key order; zero-count bins never move the walk. */
export function keyAtRank(bins: BinRuns, rank: number, lower: boolean): number {
  let running = 0;
  for (let i = 0; i < bins.length; i++) {
    running += bins.counts[i] as number;
    if ((lower && running > rank) || (!lower && running >= rank + 1)) return bins.keys[i] as number;
  }
  // Past the last bin (rounding): the largest key holding values, as DenseStore's maxKey.
  for (let i = bins.length - 1; i > 0; i--) if ((bins.counts[i] as number) > 0) return bins.keys[i] as number;
  return bins.keys[0] as number;
}


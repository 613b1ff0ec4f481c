import type { RollupPartial } from './rollup-types.ts';
import type { MetricKind } from './metrics/definition.ts';
import { encodeSketch, encodeValues, sketchFromValues, type Sketch } from './sketch.ts';
import { encodedQuantiles, mergeEncodedSketches } from './sketch-merge.ts';
import { DistinctSketch, distinctCount, mergeDistinct } from './distinct-sketch.ts';

/**
 * Mergeable rollup partials. Every higher tier is a merge of lower-tier partials: count, sum,
 * min and max add up or compare, sketches merge bin by bin, gauges keep the latest reading.
 * Averages are always sum / count of the merged partial, never an average of averages.
 */

export interface RollupStats {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Gauges: the latest reading; null for other kinds. */
  last: number | null;
  /** Unique metrics: the number of distinct values; null for other kinds. */
  distinct: number | null;
}

/** The identity of `mergePartials`. min/max are 0 but meaningless while count is 0. */
export function emptyPartial(): RollupPartial {
  return { count: 0, sum: 0, min: 0, max: 0, sketch: null, lastValue: null, lastTs: null, hll: null };
}

/** Values below this many per group stay in a plain array; a dense sketch costs ~1 KB of memory. */
const BUFFERED_VALUES = 256;

const PLAIN = 0;
const DISTRIBUTION = 1;
const GAUGE = 2;
const UNIQUE = 3;

/**
 * Accumulates many partials at once, one numeric slot per group, in typed-array columns: an
 * aggregation pass with a million groups allocates no object per group, which keeps it fast
 * and cheap for the garbage collector. Distribution values are buffered and encoded when read,
 * so the many small groups never hold a dense sketch each.
 */
export class PartialTable {
  private capacity: number;
  private counts: Float64Array;
  private sums: Float64Array;
  private mins: Float64Array;
  private maxs: Float64Array;
  /** Gauges only; NaN timestamp = no reading yet. */
  private lastValues: Float64Array;
  private lastTimes: Float64Array;
  private kinds: Uint8Array;
  private readonly buffers: (number[] | undefined)[] = [];
  private readonly sketches: (Sketch | undefined)[] = [];
  private readonly distinct: (DistinctSketch | undefined)[] = [];
  size = 0;

  constructor(initialCapacity = 1024) {
    this.capacity = Math.max(1, initialCapacity);
    this.counts = new Float64Array(this.capacity);
    this.sums = new Float64Array(this.capacity);
    this.mins = new Float64Array(this.capacity);
    this.maxs = new Float64Array(this.capacity);
    this.lastValues = new Float64Array(this.capacity);
    this.lastTimes = new Float64Array(this.capacity);
    this.kinds = new Uint8Array(this.capacity);
  }

  private grow(): void {
    this.capacity *= 2;
    const widen = <T extends Float64Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(this.capacity);
      next.set(old);
      return next;
    };
    const f64 = (n: number) => new Float64Array(n);
    this.counts = widen(this.counts, f64);
    this.sums = widen(this.sums, f64);
    this.mins = widen(this.mins, f64);
    this.maxs = widen(this.maxs, f64);
    this.lastValues = widen(this.lastValues, f64);
    this.lastTimes = widen(this.lastTimes, f64);
    this.kinds = widen(this.kinds, (n) => new Uint8Array(n));
  }

  /** Forgets every slot (capacity is kept for reuse). */
  reset(): void {
    this.size = 0;
    this.buffers.length = 0;
    this.sketches.length = 0;
    this.distinct.length = 0;
  }

  /** A new empty partial for a metric of `kind`; returns its slot. */
  open(kind: MetricKind): number {
    if (this.size === this.capacity) this.grow();
    const slot = this.size++;
    this.counts[slot] = 0;
    this.sums[slot] = 0;
    this.mins[slot] = Infinity;
    this.maxs[slot] = -Infinity;
    this.lastTimes[slot] = NaN;
    this.kinds[slot] = kind === 'distribution' ? DISTRIBUTION : kind === 'gauge' ? GAUGE : kind === 'unique' ? UNIQUE : PLAIN;
    if (kind === 'distribution') this.buffers[slot] = [];
    if (kind === 'unique') this.distinct[slot] = new DistinctSketch();
    return slot;
  }

  /** `value` is the reading; for unique metrics it is the value's hash (`distinctHash`). */
  add(slot: number, value: number, ts: number): void {
    if (this.kinds[slot] === UNIQUE) {
      // count = events seen; the distinct count lives in the sketch, sum/min/max stay 0.
      this.counts[slot] = (this.counts[slot] as number) + 1;
      (this.distinct[slot] as DistinctSketch).add(value);
      return;
    }
    this.counts[slot] = (this.counts[slot] as number) + 1;
    this.sums[slot] = (this.sums[slot] as number) + value;
    if (value < (this.mins[slot] as number)) this.mins[slot] = value;
    if (value > (this.maxs[slot] as number)) this.maxs[slot] = value;
    const kind = this.kinds[slot];
    if (kind === DISTRIBUTION) {
      const sketch = this.sketches[slot];
      if (sketch !== undefined) {
        sketch.accept(value);
      } else {
        const buffer = this.buffers[slot] as number[];
        buffer.push(value);
        if (buffer.length >= BUFFERED_VALUES) {
          this.sketches[slot] = sketchFromValues(buffer);
          this.buffers[slot] = [];
        }
      }
    } else if (kind === GAUGE) {
      const lastTs = this.lastTimes[slot] as number;
      if (Number.isNaN(lastTs) || isLaterReading(ts, value, lastTs, this.lastValues[slot] as number)) {
        this.lastTimes[slot] = ts;
        this.lastValues[slot] = value;
      }
    }
  }

  partial(slot: number): RollupPartial {
    const count = this.counts[slot] as number;
    const kind = this.kinds[slot];
    const lastTs = this.lastTimes[slot] as number;
    let sketch: Uint8Array | null = null;
    if (kind === DISTRIBUTION) {
      // Once a sketch exists every further value goes into it, so the buffer is empty then.
      const dense = this.sketches[slot];
      sketch = dense === undefined ? encodeValues(this.buffers[slot] as number[]) : encodeSketch(dense);
    }
    const unique = kind === UNIQUE;
    return {
      count,
      sum: this.sums[slot] as number,
      min: count === 0 || unique ? 0 : (this.mins[slot] as number),
      max: count === 0 || unique ? 0 : (this.maxs[slot] as number),
      sketch,
      lastValue: Number.isNaN(lastTs) ? null : (this.lastValues[slot] as number),
      lastTs: Number.isNaN(lastTs) ? null : lastTs,
      hll: unique ? (this.distinct[slot] as DistinctSketch).encode() : null,
    };
  }
}

/** Partial of `readings` for a metric of `kind`; counters pass 1 per event. */
export function partialOf(kind: MetricKind, readings: ReadonlyArray<{ value: number; ts: number }>): RollupPartial {
  const table = new PartialTable(1);
  const slot = table.open(kind);
  for (const { value, ts } of readings) table.add(slot, value, ts);
  return table.partial(slot);
}

/** Later timestamp wins; on a tie the larger value, so merge order never matters. */
function isLaterReading(ts: number, value: number, lastTs: number | null, lastValue: number | null): boolean {
  if (lastTs === null || lastValue === null) return true;
  return ts > lastTs || (ts === lastTs && value > lastValue);
}

/** Associative, commutative merge of two partials of the same metric. */
export function mergePartials(a: RollupPartial, b: RollupPartial): RollupPartial {
  return mergeAllPartials([a, b]);
}

/**
 * Merge of any number of partials; sketches merge in their compact form. Arrays of sketches are
 * made only when two or more partials carry one: most merged groups of a coarse tier have a
 * single source with a sketch, and this runs once per group.
 */
export function mergeAllPartials(partials: Iterable<RollupPartial>): RollupPartial {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let sketch: Uint8Array | null = null;
  let sketches: Uint8Array[] | null = null;
  let hll: Uint8Array | null = null;
  let distinct: Uint8Array[] | null = null;
  let lastValue: number | null = null;
  let lastTs: number | null = null;
  for (const p of partials) {
    if (p.sketch !== null) {
      if (sketch === null) sketch = p.sketch;
      else if (sketches === null) sketches = [sketch, p.sketch];
      else sketches.push(p.sketch);
    }
    if (p.hll !== null) {
      if (hll === null) hll = p.hll;
      else if (distinct === null) distinct = [hll, p.hll];
      else distinct.push(p.hll);
    }
    if (p.lastValue !== null && p.lastTs !== null && isLaterReading(p.lastTs, p.lastValue, lastTs, lastValue)) {
      lastValue = p.lastValue;
      lastTs = p.lastTs;
    }
    if (p.count === 0) continue;
    count += p.count;
    sum += p.sum;
    if (p.min < min) min = p.min;
    if (p.max > max) max = p.max;
  }
  return {
    count,
    sum,
    min: count === 0 ? 0 : min,
    max: count === 0 ? 0 : max,
    sketch: sketches === null ? sketch : mergeEncodedSketches(sketches),
    lastValue,
    lastTs,
    // Never summed: the union of the sets, so a range's distinct count is exact however it is cut.
    hll: distinct === null ? hll : mergeDistinct(distinct),
  };
}

function clamp(value: number | null, min: number, max: number): number | null {
  if (value === null) return null;
  return Math.min(max, Math.max(min, value));
}

const STAT_QUANTILES = [0.5, 0.95, 0.99] as const;

/** Read-side statistics. Quantiles are clamped to [min, max], which only ever tightens them. */
export function toStats(partial: RollupPartial): RollupStats {
  const empty = partial.count === 0;
  if (partial.hll !== null) {
    return {
      count: partial.count, sum: 0, min: null, max: null, avg: null, p50: null, p95: null, p99: null, last: null,
      distinct: distinctCount(partial.hll),
    };
  }
  const stats: RollupStats = {
    count: partial.count,
    sum: partial.sum,
    min: empty ? null : partial.min,
    max: empty ? null : partial.max,
    avg: empty ? null : partial.sum / partial.count,
    p50: null,
    p95: null,
    p99: null,
    last: partial.lastValue,
    distinct: null,
  };
  if (!empty && partial.sketch !== null) {
    const [p50, p95, p99] = encodedQuantiles(partial.sketch, STAT_QUANTILES);
    stats.p50 = clamp(p50 ?? null, partial.min, partial.max);
    stats.p95 = clamp(p95 ?? null, partial.min, partial.max);
    stats.p99 = clamp(p99 ?? null, partial.min, partial.max);
  }
  return stats;
}

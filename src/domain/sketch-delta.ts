import type { BinRuns } from './sketch-bins.ts';
import { ByteReader, FLOAT_COUNTS, FORMAT_VERSION, parseSketch, readBinsInto, readCount, ScratchBins, writeSketch } from './sketch.ts';

/**
 * Bin arithmetic on encoded sketches (sketch.ts's compact form) for the steady pass's coarse
 * deltas (domain/rollup-delta.ts, ADR 0007, ADR 0015): a finer bucket's old sketch taken out of a
 * coarser one and its new sketch put in, exact because rollup counts are whole.
 */

type Bins = BinRuns;

/**
 * `base` with the bins of `minus` taken out and those of `plus` added, for replacing a finer
 * bucket's contribution inside a coarser one without re-merging all its other finer buckets
 * (src/domain/rollup-delta.ts). Exact only for whole counts (unit weights, always for
 * rollups): null when any encoding has float counts or a bin would go negative, so the
 * caller re-merges instead. Bins that reach zero disappear, so the bytes equal a fresh merge.
 */
export function replaceEncodedBins(base: Uint8Array, minus: Iterable<Uint8Array>, plus: Iterable<Uint8Array>): Uint8Array | null {
  if ((base[0] as number) & FLOAT_COUNTS) return null;
  const parsedBase = parseSketch(base);
  let zeroCount = parsedBase.zeroCount;
  let positive: Bins | null = parsedBase.positive;
  let negative: Bins | null = parsedBase.negative;
  // Every addition before any removal: a bin then goes negative only if it ends negative.
  for (const [encodings, sign] of [[plus, 1], [minus, -1]] as const) {
    for (const bytes of encodings) {
      if ((bytes[0] as number) & FLOAT_COUNTS) return null;
      const parsed = parseSketch(bytes);
      zeroCount += sign * parsed.zeroCount;
      positive = combineBins(positive, parsed.positive, sign, true);
      negative = combineBins(negative, parsed.negative, sign, true);
      if (positive === null || negative === null) return null;
    }
  }
  if (zeroCount < 0) return null;
  return writeSketch(zeroCount, positive, negative);
}

/**
 * `a` plus `sign` × `b`, both in ascending key order (as parsed), in one linear walk; bins
 * reaching zero are dropped. With `refuseNegative`, null when one goes negative (a sketch's
 * counts), otherwise negative counts stay (a signed delta). Same bins as adding through a map
 * and sorting, without the map.
 */
function combineBins(a: Bins, b: Bins, sign: 1 | -1, refuseNegative: boolean): Bins | null {
  if (b.length === 0) return a;
  const keys: number[] = [];
  const counts: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ka = i < a.length ? (a.keys[i] as number) : Infinity;
    const kb = j < b.length ? (b.keys[j] as number) : Infinity;
    const fromA = ka <= kb ? (a.counts[i++] as number) : 0;
    const count = fromA + (kb <= ka ? sign * (b.counts[j++] as number) : 0);
    if (count < 0 && refuseNegative) return null;
    if (count !== 0) {
      keys.push(Math.min(ka, kb));
      counts.push(count);
    }
  }
  return { keys, counts, length: keys.length };
}

/**
 * The bins `plus` minus `minus` (whole counts, so exact), signed: what replacing one finer
 * bucket's sketch by another does to every coarser bucket containing it. Computed once and
 * applied to the day, week and month (`applySketchDelta`) instead of parsing and merging both
 * encodings again per tier (ADR 0015). null when either has float counts.
 */
export interface SketchDelta {
  zeroCount: number;
  positive: Bins;
  negative: Bins;
}

const NO_BINS: Bins = { keys: [], counts: [], length: 0 };

export function sketchDelta(minus: Uint8Array | null, plus: Uint8Array | null): SketchDelta | null {
  let zeroCount = 0;
  let positive = NO_BINS;
  let negative = NO_BINS;
  if (plus !== null) {
    if ((plus[0] as number) & FLOAT_COUNTS) return null;
    const parsed = parseSketch(plus);
    ({ zeroCount, positive, negative } = parsed);
  }
  if (minus !== null) {
    if ((minus[0] as number) & FLOAT_COUNTS) return null;
    const parsed = parseSketch(minus);
    zeroCount -= parsed.zeroCount;
    positive = combineBins(positive, parsed.positive, -1, false)!;
    negative = combineBins(negative, parsed.negative, -1, false)!;
  }
  return { zeroCount, positive, negative };
}


/**
 * `replaceEncodedBins(base, [minus], [plus])` from their `sketchDelta`: the same bytes, or null
 * in the same cases (float counts, a bin or the zero count ending negative).
 */
export function applySketchDelta(base: Uint8Array, delta: SketchDelta): Uint8Array | null {
  if ((base[0] as number) & FLOAT_COUNTS) return null;
  // Parsed and merged in scratch bins: a month's sketch has hundreds of bins, and a steady pass
  // applies thousands of deltas (arrays per call were most of its garbage, ADR 0015).
  const input = new ByteReader(base);
  const header = input.byte();
  if (header !== FORMAT_VERSION) throw new Error(`unknown sketch format version ${header & ~FLOAT_COUNTS}`);
  const zeroCount = readCount(input, false) + delta.zeroCount;
  const basePositive = readBinsInto(input, false, base.length, scratchBins[0]!);
  const baseNegative = readBinsInto(input, false, base.length, scratchBins[1]!);
  input.done();
  const positive = addBinsInto(basePositive, delta.positive, scratchBins[2]!);
  const negative = addBinsInto(baseNegative, delta.negative, scratchBins[3]!);
  if (positive === null || negative === null || zeroCount < 0) return null;
  return writeSketch(zeroCount, positive, negative);
}

const scratchBins = [new ScratchBins(), new ScratchBins(), new ScratchBins(), new ScratchBins()];

/** `combineBins(a, b, 1, true)` into `into`: null when a bin goes negative. */
function addBinsInto(a: Bins, b: Bins, into: ScratchBins): Bins | null {
  if (b.length === 0) return a;
  const { keys, counts } = into.reset(a.length + b.length);
  let n = 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ka = i < a.length ? (a.keys[i] as number) : Infinity;
    const kb = j < b.length ? (b.keys[j] as number) : Infinity;
    const count = (ka <= kb ? (a.counts[i++] as number) : 0) + (kb <= ka ? (b.counts[j++] as number) : 0);
    if (count < 0) return null;
    if (count > 0) {
      keys[n] = Math.min(ka, kb);
      counts[n] = count;
      n++;
    }
  }
  into.length = n;
  return into;
}

import { DenseBins, keyAtRank } from './sketch-bins.ts';
import {
  addBins, ByteReader, parseSketch, parseSketchInto, readCount, readHeader, ScratchBins, sharedMapping, sortedBins, unzigzag,
  writeSketch, type ParsedSketch,
} from './sketch.ts';

/**
 * The read side's work on compact sketch encodings (sketch.ts): merging many of them, as every
 * query merges the partials of its buckets and every coarser tier its finer ones, and reading
 * quantiles without building DDSketch's dense stores.
 */

/** Shared by every merge (one runs at a time: merges are synchronous). */
const positiveBins = new DenseBins();
const negativeBins = new DenseBins();

function mergeWithMaps(parsed: readonly ParsedSketch[]): Uint8Array {
  let zeroCount = 0;
  const positive = new Map<number, number>();
  const negative = new Map<number, number>();
  for (const sketch of parsed) {
    zeroCount += sketch.zeroCount;
    addBins(positive, sketch.positive);
    addBins(negative, sketch.negative);
  }
  return writeSketch(zeroCount, sortedBins(positive), sortedBins(negative));
}

/**
 * Merge of compact encodings straight into a compact encoding, bin by bin, without dense
 * sketches: day, week and month rebuilds merge many small hourly sketches, and every query
 * merges the partials of its buckets.
 */
export function mergeEncodedSketches(encodings: Iterable<Uint8Array>): Uint8Array {
  const inputs = Array.isArray(encodings) ? (encodings as readonly Uint8Array[]) : [...encodings];
  let zeroCount = 0;
  let dense = true;
  try {
    for (const bytes of inputs) {
      const zero = accumulateSketch(bytes);
      if (zero === null) {
        dense = false;
        break;
      }
      zeroCount += zero;
    }
    if (dense) return writeSketch(zeroCount, positiveBins.take(), negativeBins.take());
  } finally {
    // Emptied by take(); after a throw or a too-wide range they still hold counts.
    positiveBins.reset();
    negativeBins.reset();
  }
  return mergeWithMaps(inputs.map(parseSketch));
}

/** Scratch for one store's runs while they move from the bytes into the dense bins. */
let scratchKeys = new Float64Array(256);
let scratchCounts = new Float64Array(256);

/** parseSketch straight into the shared dense bins; its zero count, or null when the keys are too wide for them. */
function accumulateSketch(bytes: Uint8Array): number | null {
  const input = new ByteReader(bytes);
  const float = readHeader(input);
  const zeroCount = readCount(input, float);
  if (!readRunsInto(input, float, bytes.length, positiveBins)) return null;
  if (!readRunsInto(input, float, bytes.length, negativeBins)) return null;
  input.done();
  return zeroCount;
}

function readRunsInto(input: ByteReader, float: boolean, maxLength: number, into: DenseBins): boolean {
  const length = input.varint();
  if (length > maxLength) throw new Error('corrupt sketch encoding');
  if (length > scratchKeys.length) {
    scratchKeys = new Float64Array(length * 2);
    scratchCounts = new Float64Array(length * 2);
  }
  for (let i = 0; i < length; i++) {
    const raw = input.varint();
    scratchKeys[i] = i === 0 ? unzigzag(raw) : (scratchKeys[i - 1] as number) + raw + 1;
  }
  for (let i = 0; i < length; i++) scratchCounts[i] = readCount(input, float);
  return into.add({ keys: scratchKeys, counts: scratchCounts, length });
}

/** The bins `encodedQuantiles` reads a sketch into. */
const quantilePositive = new ScratchBins();
const quantileNegative = new ScratchBins();

/**
 * `quantile(decodeSketch(bytes), q)` for each of `quantiles`, read straight from the compact
 * encoding: the same rank walk as DDSketch's getValueAtQuantile over the same bins, without
 * building its dense stores (the read side's last decode of every distribution).
 */
export function encodedQuantiles(bytes: Uint8Array, quantiles: readonly number[]): Array<number | null> {
  // Into shared scratch (this runs to its end before another starts): a dashboard reads the
  // quantiles of a few hundred sketches, and their bins were an eighth of its garbage.
  const positive = quantilePositive;
  const negative = quantileNegative;
  const zeroCount = parseSketchInto(bytes, positive, negative);
  // Sums in decodeSketch's order (zero, positive bins, negative bins), so float counts match too.
  let count = zeroCount;
  let negativeCount = 0;
  for (let i = 0; i < positive.length; i++) count += positive.counts[i] as number;
  for (let i = 0; i < negative.length; i++) {
    count += negative.counts[i] as number;
    negativeCount += negative.counts[i] as number;
  }
  return quantiles.map((q) => {
    if (count === 0 || !(q >= 0 && q <= 1)) return null;
    const rank = q * (count - 1);
    if (rank < negativeCount) return -sharedMapping.value(keyAtRank(negative, negativeCount - rank - 1, false));
    if (rank < zeroCount + negativeCount) return 0;
    return sharedMapping.value(keyAtRank(positive, rank - zeroCount - negativeCount, true));
  });
}

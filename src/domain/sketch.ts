import { DDSketch } from '@datadog/sketches-js';
import type { BinRuns } from './sketch-bins.ts';

/**
 * Quantile sketches (DDSketch, 1 % relative accuracy) and their compact storage form.
 *
 * The library's own protobuf form writes the dense bin array (~1 KB even for one value) and
 * needs protobufjs at run time; most hourly buckets hold a handful of values, so rollups store
 * this format instead:
 *
 *   header   1 byte: format version (low 7 bits) | 0x80 when counts are float64
 *   zero     count of values in the zero bucket
 *   positive store, then negative store, each:
 *     n      number of non-empty bins (varint)
 *     key    first bin key (zigzag varint), then for each further bin (gap − 1) as varint
 *     counts n counts, in bin order
 *
 * Counts are unsigned varints when all are integers (always, for unit weights), else
 * little-endian float64. A one-value sketch takes 7 bytes, an empty one 4.
 *
 * The library's `merge` drops the negative store, so merging is done here, bin by bin.
 */

export const RELATIVE_ACCURACY = 0.01;
export const FORMAT_VERSION = 1;
export const FLOAT_COUNTS = 0x80;

export type Sketch = DDSketch;
type Store = DDSketch['store'];

export function emptySketch(): Sketch {
  return new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
}

/** Sketch of the finite values in `values` (non-finite ones are ignored). */
export function sketchFromValues(values: Iterable<number>): Sketch {
  const sketch = emptySketch();
  for (const value of values) {
    if (Number.isFinite(value)) sketch.accept(value);
  }
  return sketch;
}

function forEachBin(store: Store, visit: (key: number, count: number) => void): void {
  if (store.count === 0) return;
  const { bins, offset } = store;
  for (let i = 0; i < bins.length; i++) {
    const count = bins[i];
    if (count !== undefined && count > 0) visit(i + offset, count);
  }
}

/** Adds `source` into `target` (mutates `target`). */
export function mergeInto(target: Sketch, source: Sketch): Sketch {
  if (!target.mergeable(source)) throw new Error('cannot merge sketches with different relative accuracy');
  if (source.count === 0) return target;
  forEachBin(source.store, (key, count) => target.store.add(key, count));
  forEachBin(source.negativeStore, (key, count) => target.negativeStore.add(key, count));
  target.zeroCount += source.zeroCount;
  target.count += source.count;
  target.sum += source.sum;
  if (source.min < target.min) target.min = source.min;
  if (source.max > target.max) target.max = source.max;
  return target;
}

/** A new sketch holding both inputs; neither input changes. */
export function mergeSketches(a: Sketch, b: Sketch): Sketch {
  return mergeInto(mergeInto(emptySketch(), a), b);
}

export function mergeManySketches(sketches: Iterable<Sketch>): Sketch {
  const total = emptySketch();
  for (const sketch of sketches) mergeInto(total, sketch);
  return total;
}

/** Value at quantile `q` (0..1) by rank, within 1 % relative error; null for an empty sketch. */
export function quantile(sketch: Sketch, q: number): number | null {
  if (sketch.count === 0 || !(q >= 0 && q <= 1)) return null;
  return sketch.getValueAtQuantile(q);
}

// ---- compact encoding -------------------------------------------------------------------

/** Encoders write into one shared scratch buffer and copy out the result: one allocation per sketch. */
let scratch = new Uint8Array(4096);

class ByteWriter {
  private length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= scratch.length) return;
    const grown = new Uint8Array(Math.max(scratch.length * 2, this.length + extra));
    grown.set(scratch.subarray(0, this.length));
    scratch = grown;
  }

  byte(value: number): void {
    this.ensure(1);
    scratch[this.length++] = value;
  }

  /** Unsigned integer up to 2^53, 7 bits per byte; arithmetic (not bitwise) to pass 2^31. */
  varint(value: number): void {
    this.ensure(8);
    let rest = value;
    while (rest >= 0x80) {
      scratch[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    scratch[this.length++] = rest;
  }

  float64(value: number): void {
    this.ensure(8);
    new DataView(scratch.buffer).setFloat64(this.length, value, true);
    this.length += 8;
  }

  finish(): Uint8Array {
    return scratch.slice(0, this.length);
  }
}

export class ByteReader {
  private position = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private fail(): never {
    throw new Error('corrupt sketch encoding');
  }

  byte(): number {
    const value = this.bytes[this.position++];
    return value === undefined ? this.fail() : value;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
      if (scale > 2 ** 56) this.fail();
    }
  }

  float64(): number {
    if (this.position + 8 > this.bytes.length) this.fail();
    const value = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).getFloat64(this.position, true);
    this.position += 8;
    return value;
  }

  done(): void {
    if (this.position !== this.bytes.length) this.fail();
  }
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

export function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function collectBins(store: Store): Bins {
  const keys: number[] = [];
  const counts: number[] = [];
  forEachBin(store, (key, count) => {
    keys.push(key);
    counts.push(count);
  });
  return { keys, counts, length: keys.length };
}

function isWholeCount(count: number): boolean {
  return Number.isInteger(count) && count >= 0 && count <= Number.MAX_SAFE_INTEGER;
}

type Bins = BinRuns;

function allWhole(counts: ArrayLike<number>, length: number): boolean {
  for (let i = 0; i < length; i++) if (!isWholeCount(counts[i] as number)) return false;
  return true;
}

// Plain loops, no closures: this runs once per distribution row of every aggregation pass.
function writeBins(out: ByteWriter, bins: Bins, whole: boolean): void {
  const { keys, counts, length } = bins;
  out.varint(length);
  for (let i = 0; i < length; i++) {
    out.varint(i === 0 ? zigzag(keys[0] as number) : (keys[i] as number) - (keys[i - 1] as number) - 1);
  }
  for (let i = 0; i < length; i++) {
    if (whole) out.varint(counts[i] as number);
    else out.float64(counts[i] as number);
  }
}

export function writeSketch(zeroCount: number, positive: Bins, negative: Bins): Uint8Array {
  const whole = isWholeCount(zeroCount) && allWhole(positive.counts, positive.length) && allWhole(negative.counts, negative.length);
  const out = new ByteWriter();
  out.byte(FORMAT_VERSION | (whole ? 0 : FLOAT_COUNTS));
  if (whole) out.varint(zeroCount);
  else out.float64(zeroCount);
  writeBins(out, positive, whole);
  writeBins(out, negative, whole);
  return out.finish();
}

export function encodeSketch(sketch: Sketch): Uint8Array {
  return writeSketch(sketch.zeroCount, collectBins(sketch.store), collectBins(sketch.negativeStore));
}

export const sharedMapping = emptySketch().mapping;
let positiveKeys = new Int32Array(256);
let negativeKeys = new Int32Array(256);

/** Sorts `keys[0..n)` in place and folds equal keys into (key, count) runs, in place too. */
function runsOf(keys: Int32Array, n: number): Bins {
  const sorted = keys.subarray(0, n).sort();
  const counts = new Array<number>();
  let length = 0;
  for (let i = 0; i < n; ) {
    const key = sorted[i] as number;
    let j = i + 1;
    while (j < n && sorted[j] === key) j++;
    sorted[length] = key;
    counts.push(j - i);
    length++;
    i = j;
  }
  return { keys: sorted, counts, length };
}

/**
 * Same bytes as `encodeSketch(sketchFromValues(values))` without building a dense sketch:
 * the aggregation path encodes many small groups and the dense stores dominate its cost.
 */
export function encodeValues(values: readonly number[]): Uint8Array {
  if (values.length > positiveKeys.length) {
    positiveKeys = new Int32Array(values.length * 2);
    negativeKeys = new Int32Array(values.length * 2);
  }
  let positives = 0;
  let negatives = 0;
  let zeroCount = 0;
  const limit = sharedMapping.minPossible;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isFinite(value)) continue;
    if (value > limit) positiveKeys[positives++] = sharedMapping.key(value);
    else if (value < -limit) negativeKeys[negatives++] = sharedMapping.key(-value);
    else zeroCount += 1;
  }
  return writeSketch(zeroCount, runsOf(positiveKeys, positives), runsOf(negativeKeys, negatives));
}

export interface ParsedSketch {
  zeroCount: number;
  positive: Bins;
  negative: Bins;
}

// Module-level helpers rather than closures: tsx wraps every closure creation in a naming call.
export function readCount(input: ByteReader, float: boolean): number {
  const c = float ? input.float64() : input.varint();
  if (!(c >= 0) || !Number.isFinite(c)) throw new Error('corrupt sketch encoding');
  return c;
}

function readBins(input: ByteReader, float: boolean, maxLength: number): Bins {
  const length = input.varint();
  if (length > maxLength) throw new Error('corrupt sketch encoding');
  const keys = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    const raw = input.varint();
    keys[i] = i === 0 ? unzigzag(raw) : (keys[i - 1] as number) + raw + 1;
  }
  const counts = new Array<number>(length);
  for (let i = 0; i < length; i++) counts[i] = readCount(input, float);
  return { keys, counts, length };
}

/** Reusable bins for a synchronous read (never handed out: only read before the next call overwrites them). */
export class ScratchBins implements BinRuns {
  keys = new Float64Array(256);
  counts = new Float64Array(256);
  length = 0;

  reset(capacity: number): this {
    if (this.keys.length < capacity) {
      this.keys = new Float64Array(capacity * 2);
      this.counts = new Float64Array(capacity * 2);
    }
    this.length = 0;
    return this;
  }
}

/** `readBins` into `into`, without arrays of its own. */
export function readBinsInto(input: ByteReader, float: boolean, maxLength: number, into: ScratchBins): ScratchBins {
  const length = input.varint();
  if (length > maxLength) throw new Error('corrupt sketch encoding');
  const { keys, counts } = into.reset(length);
  for (let i = 0; i < length; i++) {
    const raw = input.varint();
    keys[i] = i === 0 ? unzigzag(raw) : (keys[i - 1] as number) + raw + 1;
  }
  for (let i = 0; i < length; i++) counts[i] = readCount(input, float);
  into.length = length;
  return into;
}

export function parseSketch(bytes: Uint8Array): ParsedSketch {
  const input = new ByteReader(bytes);
  const float = readHeader(input);
  const zeroCount = readCount(input, float);
  const positive = readBins(input, float, bytes.length);
  const negative = readBins(input, float, bytes.length);
  input.done();
  return { zeroCount, positive, negative };
}

/** `parseSketch` into reusable bins (read them before they are reused); returns the zero count. */
export function parseSketchInto(bytes: Uint8Array, positive: ScratchBins, negative: ScratchBins): number {
  const input = new ByteReader(bytes);
  const float = readHeader(input);
  const zeroCount = readCount(input, float);
  readBinsInto(input, float, bytes.length, positive);
  readBinsInto(input, float, bytes.length, negative);
  input.done();
  return zeroCount;
}

/** The version byte checked; whether counts are floats. */
export function readHeader(input: ByteReader): boolean {
  const header = input.byte();
  if ((header & ~FLOAT_COUNTS) !== FORMAT_VERSION) throw new Error(`unknown sketch format version ${header & ~FLOAT_COUNTS}`);
  return (header & FLOAT_COUNTS) !== 0;
}

export function addBins(into: Map<number, number>, bins: Bins): void {
  for (let i = 0; i < bins.length; i++) {
    const key = bins.keys[i] as number;
    into.set(key, (into.get(key) ?? 0) + (bins.counts[i] as number));
  }
}

export function sortedBins(bins: Map<number, number>): Bins {
  const keys = Float64Array.from(bins.keys()).sort();
  const counts = new Array<number>(keys.length);
  for (let i = 0; i < keys.length; i++) counts[i] = bins.get(keys[i] as number) as number;
  return { keys, counts, length: keys.length };
}

export function decodeSketch(bytes: Uint8Array): Sketch {
  const parsed = parseSketch(bytes);
  const sketch = emptySketch();
  sketch.zeroCount = parsed.zeroCount;
  let count = parsed.zeroCount;
  for (const [store, bins] of [[sketch.store, parsed.positive], [sketch.negativeStore, parsed.negative]] as const) {
    for (let i = 0; i < bins.length; i++) {
      const c = bins.counts[i] as number;
      if (c > 0) store.add(bins.keys[i] as number, c);
      count += c;
    }
  }
  sketch.count = count;
  // Bins keep no exact min, max or sum: callers hold those in the rollup partial.
  sketch.sum = NaN;
  return sketch;
}

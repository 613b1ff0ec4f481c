import type { RollupKey, RollupPartial } from '../domain/rollup-types.ts';
import { FORMAT_VERSION, sharedMapping } from '../domain/sketch.ts';
import { PackWriter } from './rollup-pack-writer.ts';
import { putVarint } from '../domain/varint.ts';

/**
 * The bytes of one rollup pack (ADR 0006, ADR 0008): the encode/decode boundary, with no
 * notion of which pack it is. `rollup-packs.ts` groups rows into packs and calls this.
 *
 * Every pack starts with a format version byte, then its table of the projects and tags its
 * entries name (varint count, then each as varint length + UTF-8), then its entries in
 * (project, tag, dimension value) order. Integers are unsigned LEB128 varints, signed ones
 * zigzag varints, floats little-endian float64.
 *
 * Format 1 (ADR 0006), per entry: project and tag (indexes into the table), dimension value
 * (length + UTF-8), flags byte, count, then unless UNIT sum/min/max (one of them when SINGLE;
 * varints when INTEGRAL, else floats), then sketch (length + bytes), last reading (two floats),
 * distinct sketch (length + bytes), each only when its flag says so.
 *
 * Format 2 (ADR 0008) writes the flags byte first and drops what the previous entry or the
 * partial itself already says: project and tag only unless SAME_SCOPE; the dimension value as
 * the length of the prefix it shares with the previous entry's value (only when that value is
 * not empty) and the rest; no sketch bytes when IMPLIED_SKETCH (all `count` values equal `min`,
 * so the sketch is the one `encodeValues` gives, checked byte for byte before it is dropped).
 * Format 1 packs stay readable: a pack keeps its format until it is rewritten.
 */

export type PackEntry = Pick<RollupKey, 'project' | 'tag' | 'dimValue'> & RollupPartial;

const FORMAT_1 = 1;
const FORMAT_2 = 2;

/** count-only partial of a counter: sum = count, min = max = 1 (nothing else stored). */
const UNIT = 1;
/** sum, min and max are safe integers, stored as zigzag varints. */
const INTEGRAL = 2;
const HAS_SKETCH = 4;
const HAS_LAST = 8;
const HAS_HLL = 16;
/** sum = min = max (one value, or all equal): the value is stored once. */
const SINGLE = 32;
/** Format 2: same project and tag as the previous entry (none stored). */
const SAME_SCOPE = 64;
/** Format 2, with HAS_SKETCH: the sketch is the one of `count` values equal to `min` (no bytes stored). */
const IMPLIED_SKETCH = 128;

/** Largest count whose sketch is re-derived on read rather than stored (bounds the work of a read). */
const IMPLIED_SKETCH_MAX_COUNT = 256;

class Reader {
  offset = 0;
  /** The same bytes as a Buffer (a view, made once per pack), so text decodes without a Buffer per string. */
  private readonly asBuffer: Buffer;
  constructor(private readonly buffer: Uint8Array) {
    this.asBuffer = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  get done(): boolean {
    return this.offset >= this.buffer.length;
  }

  byte(): number {
    if (this.offset >= this.buffer.length) throw new Error('rollup pack: truncated');
    return this.buffer[this.offset++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
  }

  zigzag(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  float(): number {
    if (this.offset + 8 > this.buffer.length) throw new Error('rollup pack: truncated');
    // No DataView per value: sums, minima and maxima were a fifth of a read's garbage.
    const value = this.asBuffer.readDoubleLE(this.offset);
    this.offset += 8;
    return value;
  }


  bytes(): Uint8Array {
    const length = this.varint();
    if (this.offset + length > this.buffer.length) throw new Error('rollup pack: truncated');
    // A copy: callers own their partials, never a view into a driver buffer.
    const out = new Uint8Array(length);
    out.set(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return out;
  }

  /** Steps over a text (varint length + UTF-8); returns where its UTF-8 starts (it ends at `offset`). */
  skipText(): number {
    const length = this.varint();
    if (this.offset + length > this.buffer.length) throw new Error('rollup pack: truncated');
    const start = this.offset;
    this.offset += length;
    return start;
  }

  /** The UTF-8 text between two offsets that `skipText` reported, leaving `offset` alone. */
  textBetween(start: number, end: number): string {
    return start === end ? '' : this.asBuffer.toString('utf8', start, end);
  }

  text(): string {
    const length = this.varint();
    // Global rows' dimension value: most entries of a read.
    if (length === 0) return '';
    if (this.offset + length > this.buffer.length) throw new Error('rollup pack: truncated');
    const out = this.asBuffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

}

const isIntegral = (n: number) => Number.isSafeInteger(n) && !Object.is(n, -0);

/** Scratch for an implied sketch's bytes (at most 1 + 3 + 2 + 8 + 3 + 1). */
const implied = new Uint8Array(32);

/**
 * `encodeValues` of `count` values equal to `value` (sketch.ts's compact form), written into
 * `implied` without the array of values: a header, the zero count, then the positive and
 * negative stores, of which at most one holds one bin. Returns its length.
 */
function writeImpliedSketch(count: number, value: number): number {
  let at = 0;
  implied[at++] = FORMAT_VERSION;
  const limit = sharedMapping.minPossible;
  if (!Number.isFinite(value)) {
    // encodeValues skips non-finite values: an empty sketch.
    implied[at++] = 0;
    implied[at++] = 0;
    implied[at++] = 0;
  } else if (value > limit || value < -limit) {
    const key = sharedMapping.key(value > limit ? value : -value);
    implied[at++] = 0;
    if (value < -limit) implied[at++] = 0;
    implied[at++] = 1;
    at = putVarint(implied, at, key >= 0 ? key * 2 : -key * 2 - 1);
    at = putVarint(implied, at, count);
    if (value > limit) implied[at++] = 0;
  } else {
    at = putVarint(implied, at, count);
    implied[at++] = 0;
    implied[at++] = 0;
  }
  return at;
}

/** The sketch of `count` values equal to `value`, as `encodeValues` gives it. */
export function impliedSketch(count: number, value: number): Uint8Array {
  return implied.slice(0, writeImpliedSketch(count, value));
}

function sketchIsImplied(entry: PackEntry): boolean {
  if (entry.sketch === null || !Object.is(entry.min, entry.max)) return false;
  if (!Number.isSafeInteger(entry.count) || entry.count < 1 || entry.count > IMPLIED_SKETCH_MAX_COUNT) return false;
  const sketch = entry.sketch;
  const length = writeImpliedSketch(entry.count, entry.min);
  if (sketch.byteLength !== length) return false;
  for (let i = 0; i < length; i++) if (sketch[i] !== implied[i]) return false;
  return true;
}

/** Length of the prefix `b` shares with `a`, never ending inside a surrogate pair. */
function sharedPrefix(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let n = 0;
  while (n < limit && a.charCodeAt(n) === b.charCodeAt(n)) n++;
  if (n > 0 && n < b.length) {
    const last = b.charCodeAt(n - 1);
    if (last >= 0xd800 && last <= 0xdbff) n--;
  }
  return n;
}

/** The bytes of one pack; `entries` sorted by (project, tag, dimension value), keys distinct. */
export function encodePack(entries: readonly PackEntry[]): Buffer {
  const w = new PackWriter(false);
  writePack(w, entries);
  return Buffer.from(w.take());
}

/**
 * Encodes many packs into shared arenas (see PackWriter): each result is a view that keeps its
 * arena (64 KB) alive, so use it for packs written and dropped together, not for long-lived ones.
 */
export class PackEncoder {
  private readonly writer = new PackWriter(true);

  /** The same bytes as `encodePack(entries)`. */
  encode(entries: readonly PackEntry[]): Buffer {
    writePack(this.writer, entries);
    return this.writer.take();
  }
}

function writePack(w: PackWriter, entries: readonly PackEntry[]): void {
  w.byte(FORMAT_2);
  // Projects and tags repeat across a pack's entries: written once, referenced by index.
  const scopes = new Map<string, number>();
  for (const entry of entries) {
    if (!scopes.has(entry.project)) scopes.set(entry.project, scopes.size);
    if (!scopes.has(entry.tag)) scopes.set(entry.tag, scopes.size);
  }
  w.varint(scopes.size);
  for (const text of scopes.keys()) w.text(text);
  let previous: PackEntry | null = null;
  for (const entry of entries) {
    const unit = entry.sum === entry.count && entry.min === 1 && entry.max === 1;
    const single = !unit && Object.is(entry.sum, entry.min) && Object.is(entry.min, entry.max);
    const integral = !unit && isIntegral(entry.sum) && isIntegral(entry.min) && isIntegral(entry.max);
    const last = entry.lastValue !== null || entry.lastTs !== null;
    const sameScope = previous !== null && previous.project === entry.project && previous.tag === entry.tag;
    const implied = sketchIsImplied(entry);
    w.byte(
      (unit ? UNIT : 0) | (single ? SINGLE : 0) | (integral ? INTEGRAL : 0) | (sameScope ? SAME_SCOPE : 0) |
        (entry.sketch !== null ? HAS_SKETCH : 0) | (implied ? IMPLIED_SKETCH : 0) | (last ? HAS_LAST : 0) | (entry.hll !== null ? HAS_HLL : 0),
    );
    if (!sameScope) {
      w.varint(scopes.get(entry.project)!);
      w.varint(scopes.get(entry.tag)!);
    }
    const before = previous?.dimValue ?? '';
    if (before === '') w.text(entry.dimValue);
    else {
      const shared = sharedPrefix(before, entry.dimValue);
      w.varint(shared);
      w.text(entry.dimValue.slice(shared));
    }
    w.varint(entry.count);
    writeValues(w, entry, unit, single, integral);
    if (entry.sketch !== null && !implied) w.bytes(entry.sketch);
    if (last) {
      // Both or neither are set in practice; NaN stands for a missing half.
      w.float(entry.lastValue ?? NaN);
      w.float(entry.lastTs ?? NaN);
    }
    if (entry.hll !== null) w.bytes(entry.hll);
    previous = entry;
  }
}

function writeValues(w: PackWriter, entry: PackEntry, unit: boolean, single: boolean, integral: boolean): void {
  if (unit) return;
  if (single) {
    if (integral) w.zigzag(entry.sum);
    else w.float(entry.sum);
  } else if (integral) {
    w.zigzag(entry.sum);
    w.zigzag(entry.min);
    w.zigzag(entry.max);
  } else {
    w.float(entry.sum);
    w.float(entry.min);
    w.float(entry.max);
  }
}

/**
 * Every entry of a pack (format 1 or 2), in stored order. `visit` gets one object, overwritten
 * for each entry (a read decodes many entries and drops some): copy what it keeps.
 */
export function decodePack(packed: Uint8Array, visit: (entry: Readonly<PackEntry>) => void): void {
  decodePackWhile(packed, (entry) => {
    visit(entry);
    return true;
  });
}

/** `decodePack` that stops after the entry for which `visit` returns false (a read needing only a pack's first entry). */
export function decodePackWhile(packed: Uint8Array, visit: (entry: Readonly<PackEntry>) => boolean): void {
  const r = new Reader(packed);
  const format = r.byte();
  if (format !== FORMAT_1 && format !== FORMAT_2) throw new Error(`rollup pack: unknown format ${format}`);
  // The table's texts are decoded when an entry names them: a merging read of a global pack
  // stops after its all-scopes entry, which names only '' (ADR 0013), and decoding every
  // project and tag of ~1,800 packs was a tenth of a 30-day series.
  const scopeCount = r.varint();
  // Each text takes at least its length byte: a larger count is a corrupt pack, not a table to allocate.
  if (scopeCount > packed.length) throw new Error('rollup pack: bad project/tag count');
  // A dashboard decodes ~100 packs: their tables live in shared scratch rather than three
  // arrays and a closure each, unless `visit` itself decodes a pack (then this one's are its own).
  const shared = decoding === 0;
  decoding += 1;
  try {
    const table = shared ? sharedTable.ready(scopeCount) : new ScopeTable().ready(scopeCount);
    for (let i = 0; i < scopeCount; i++) table.add(i, r.skipText(), r.offset);
    decodeEntries(r, format, table, visit);
  } finally {
    decoding -= 1;
  }
}

/**
 * The projects and tags of the pack being decoded: where each text is, and the text once an
 * entry names it.
 */
class ScopeTable {
  private starts = new Int32Array(16);
  private ends = new Int32Array(16);
  private texts: Array<string | undefined> = [];
  private count = 0;

  ready(count: number): this {
    if (count > this.starts.length) {
      this.starts = new Int32Array(count);
      this.ends = new Int32Array(count);
    }
    this.texts.length = 0;
    this.count = count;
    return this;
  }

  add(index: number, start: number, end: number): void {
    this.starts[index] = start;
    this.ends[index] = end;
  }

  text(r: Reader, index: number): string {
    if (!(index < this.count)) throw new Error('rollup pack: bad project/tag reference');
    return (this.texts[index] ??= r.textBetween(this.starts[index]!, this.ends[index]!));
  }
}

const sharedTable = new ScopeTable();
/** Decodes in progress on this thread (a `visit` may decode another pack). */
let decoding = 0;

function decodeEntries(r: Reader, format: number, table: ScopeTable, visit: (entry: Readonly<PackEntry>) => boolean): void {
  let project = '';
  let tag = '';
  let dimValue = '';
  let first = true;
  const entry: PackEntry = { project, tag, dimValue, count: 0, sum: 0, min: 0, max: 0, sketch: null, lastValue: null, lastTs: null, hll: null };
  while (!r.done) {
    let flags: number;
    if (format === FORMAT_1) {
      project = table.text(r, r.varint());
      tag = table.text(r, r.varint());
      dimValue = r.text();
      flags = r.byte();
    } else {
      flags = r.byte();
      if ((flags & SAME_SCOPE) === 0) {
        project = table.text(r, r.varint());
        tag = table.text(r, r.varint());
      } else if (first) throw new Error('rollup pack: first entry without a scope');
      if (dimValue === '') dimValue = r.text();
      else {
        const shared = r.varint();
        if (shared > dimValue.length) throw new Error('rollup pack: bad shared prefix');
        dimValue = dimValue.slice(0, shared) + r.text();
      }
    }
    first = false;
    const count = r.varint();
    let sum = count;
    let min = 1;
    let max = 1;
    if ((flags & SINGLE) !== 0) {
      sum = (flags & INTEGRAL) !== 0 ? r.zigzag() : r.float();
      min = sum;
      max = sum;
    } else if ((flags & UNIT) === 0) {
      if ((flags & INTEGRAL) !== 0) {
        sum = r.zigzag();
        min = r.zigzag();
        max = r.zigzag();
      } else {
        sum = r.float();
        min = r.float();
        max = r.float();
      }
    }
    let sketch: Uint8Array | null = null;
    if ((flags & HAS_SKETCH) !== 0) {
      if (format === FORMAT_1 || (flags & IMPLIED_SKETCH) === 0) sketch = r.bytes();
      else if (count >= 1 && count <= IMPLIED_SKETCH_MAX_COUNT) sketch = impliedSketch(count, min);
      else throw new Error('rollup pack: implied sketch out of range');
    }
    let lastValue: number | null = null;
    let lastTs: number | null = null;
    if ((flags & HAS_LAST) !== 0) {
      const v = r.float();
      const t = r.float();
      lastValue = Number.isNaN(v) ? null : v;
      lastTs = Number.isNaN(t) ? null : t;
    }
    const hll = (flags & HAS_HLL) !== 0 ? r.bytes() : null;
    entry.project = project;
    entry.tag = tag;
    entry.dimValue = dimValue;
    entry.count = count;
    entry.sum = sum;
    entry.min = min;
    entry.max = max;
    entry.sketch = sketch;
    entry.lastValue = lastValue;
    entry.lastTs = lastTs;
    entry.hll = hll;
    if (!visit(entry)) return;
  }
}

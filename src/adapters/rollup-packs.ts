import type { Granularity, RollupRow } from '../domain/rollup-types.ts';

/**
 * The stored form of rollups (ADR 0006, migration 050): one row per (org, tier, bucket, metric,
 * dimension name) — a "pack" — whose `packed` blob holds every (project, tag, dimension value)
 * partial of that key. Row count then follows cardinality of the keys (metrics × dimensions ×
 * buckets), not of their values, and the per-row cost of a database (tuple header, primary-key
 * entry, repeated key text) is paid once per pack instead of once per value. Shared by both
 * adapters, so a blob written by one decodes in the other.
 *
 * A pack starts with a format version byte and its table of the projects and tags its entries
 * name (varint count, then each as varint length + UTF-8).
 * Entry layout (little-endian): project and tag (varint indexes into that table), dimension value (varint length + UTF-8), a flags
 * byte, count (varint); then, unless UNIT, sum/min/max (zigzag varints when INTEGRAL, else
 * float64; only one of them when SINGLE, all three being equal); then the optional sketch (varint length + bytes), last reading (two float64) and
 * distinct sketch (varint length + bytes).
 */

const FORMAT_VERSION = 1;
/** count-only partial of a counter: sum = count, min = max = 1 (nothing else stored). */
const UNIT = 1;
/** sum, min and max are safe integers, stored as zigzag varints. */
const INTEGRAL = 2;
const HAS_SKETCH = 4;
const HAS_LAST = 8;
const HAS_HLL = 16;
/** sum = min = max (one value, or all equal): the value is stored once. */
const SINGLE = 32;

export interface PackKey {
  bucketStart: number;
  metric: string;
  dimName: string;
}

export interface Pack extends PackKey {
  /** Number of partials packed (what retention counts as rows). */
  valueCount: number;
  packed: Buffer;
}

class Writer {
  private buffer = Buffer.allocUnsafe(256);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** Unsigned integer up to 2^53, seven bits a byte. */
  varint(value: number): void {
    this.reserve(8);
    let v = value;
    while (v >= 0x80) {
      this.buffer[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buffer[this.length++] = v;
  }

  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  float(value: number): void {
    this.reserve(8);
    this.buffer.writeDoubleLE(value, this.length);
    this.length += 8;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.byteLength);
    this.reserve(value.byteLength);
    this.buffer.set(value, this.length);
    this.length += value.byteLength;
  }

  text(value: string): void {
    const max = Buffer.byteLength(value, 'utf8');
    this.varint(max);
    this.reserve(max);
    this.length += this.buffer.write(value, this.length, 'utf8');
  }

  done(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}

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

function writeEntry(w: Writer, row: RollupRow, scopes: Map<string, number>): void {
  w.varint(scopes.get(row.project)!);
  w.varint(scopes.get(row.tag)!);
  w.text(row.dimValue);
  const unit = row.sum === row.count && row.min === 1 && row.max === 1;
  const single = !unit && Object.is(row.sum, row.min) && Object.is(row.min, row.max);
  const integral = !unit && isIntegral(row.sum) && isIntegral(row.min) && isIntegral(row.max);
  const last = row.lastValue !== null || row.lastTs !== null;
  w.byte(
    (unit ? UNIT : 0) | (single ? SINGLE : 0) | (integral ? INTEGRAL : 0) |
      (row.sketch !== null ? HAS_SKETCH : 0) | (last ? HAS_LAST : 0) | (row.hll !== null ? HAS_HLL : 0),
  );
  w.varint(row.count);
  if (single) {
    if (integral) w.zigzag(row.sum);
    else w.float(row.sum);
  } else if (!unit) {
    if (integral) {
      w.zigzag(row.sum);
      w.zigzag(row.min);
      w.zigzag(row.max);
    } else {
      w.float(row.sum);
      w.float(row.min);
      w.float(row.max);
    }
  }
  if (row.sketch !== null) w.bytes(row.sketch);
  if (last) {
    // Both or neither are set in practice; NaN stands for a missing half.
    w.float(row.lastValue ?? NaN);
    w.float(row.lastTs ?? NaN);
  }
  if (row.hll !== null) w.bytes(row.hll);
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const entryOrder = (a: RollupRow, b: RollupRow) => compareText(a.project, b.project) || compareText(a.tag, b.tag) || compareText(a.dimValue, b.dimValue);

/**
 * Rows grouped into packs, each pack's entries in (project, tag, value) order so the same rows
 * always give the same bytes. Packs come out in (bucket, metric, dimension) order.
 */
export function packRows(rows: readonly RollupRow[]): Pack[] {
  const groups = new Map<number, Map<string, Map<string, RollupRow[]>>>();
  for (const row of rows) {
    let byMetric = groups.get(row.bucketStart);
    if (byMetric === undefined) groups.set(row.bucketStart, (byMetric = new Map()));
    let byDim = byMetric.get(row.metric);
    if (byDim === undefined) byMetric.set(row.metric, (byDim = new Map()));
    const list = byDim.get(row.dimName);
    if (list === undefined) byDim.set(row.dimName, [row]);
    else list.push(row);
  }
  const packs: Pack[] = [];
  for (const bucketStart of [...groups.keys()].sort((a, b) => a - b)) {
    const byMetric = groups.get(bucketStart)!;
    for (const metric of [...byMetric.keys()].sort(compareText)) {
      const byDim = byMetric.get(metric)!;
      for (const dimName of [...byDim.keys()].sort(compareText)) {
        const entries = byDim.get(dimName)!.sort(entryOrder);
        const w = new Writer();
        w.byte(FORMAT_VERSION);
        // Projects and tags repeat across a pack's entries: written once, referenced by index.
        const scopes = new Map<string, number>();
        for (const entry of entries) {
          if (!scopes.has(entry.project)) scopes.set(entry.project, scopes.size);
          if (!scopes.has(entry.tag)) scopes.set(entry.tag, scopes.size);
        }
        w.varint(scopes.size);
        for (const text of scopes.keys()) w.text(text);
        for (let i = 0; i < entries.length; i++) {
          if (i > 0 && entryOrder(entries[i - 1]!, entries[i]!) === 0) {
            throw new Error(`rollup pack: duplicate row ${bucketStart}/${metric}/${dimName}/${entries[i]!.project}/${entries[i]!.tag}/${entries[i]!.dimValue}`);
          }
          writeEntry(w, entries[i]!, scopes);
        }
        packs.push({ bucketStart, metric, dimName, valueCount: entries.length, packed: w.done() });
      }
    }
  }
  return packs;
}

export interface UnpackFilter {
  project?: string | undefined;
  tag?: string | undefined;
}

/** The rows of one pack (those matching the filter), appended to `out`. */
export function unpackRows(
  orgId: string,
  granularity: Granularity,
  key: PackKey,
  packed: Uint8Array,
  filter: UnpackFilter,
  out: RollupRow[],
): void {
  const r = new Reader(packed);
  const version = r.byte();
  if (version !== FORMAT_VERSION) throw new Error(`rollup pack: unknown format ${version}`);
  const scopes: string[] = [];
  for (let n = r.varint(); n > 0; n--) scopes.push(r.text());
  const scope = (index: number): string => {
    const text = scopes[index];
    if (text === undefined) throw new Error('rollup pack: bad project/tag reference');
    return text;
  };
  while (!r.done) {
    const project = scope(r.varint());
    const tag = scope(r.varint());
    const dimValue = r.text();
    const flags = r.byte();
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
    const sketch = (flags & HAS_SKETCH) !== 0 ? r.bytes() : null;
    let lastValue: number | null = null;
    let lastTs: number | null = null;
    if ((flags & HAS_LAST) !== 0) {
      const v = r.float();
      const t = r.float();
      lastValue = Number.isNaN(v) ? null : v;
      lastTs = Number.isNaN(t) ? null : t;
    }
    const hll = (flags & HAS_HLL) !== 0 ? r.bytes() : null;
    if (filter.project !== undefined && project !== filter.project) continue;
    if (filter.tag !== undefined && tag !== filter.tag) continue;
    out.push({
      orgId,
      granularity,
      bucketStart: key.bucketStart,
      metric: key.metric,
      project,
      tag,
      dimName: key.dimName,
      dimValue,
      count,
      sum,
      min,
      max,
      sketch,
      lastValue,
      lastTs,
      hll,
    });
  }
}

const ORDER_FIELDS = ['metric', 'project', 'tag', 'dimName', 'dimValue'] as const;

/** The order every rollup read returns: bucket, metric, project, tag, dimension name, value. */
export function sortRollupRows(rows: RollupRow[]): RollupRow[] {
  return rows.sort((a, b) => {
    if (a.bucketStart !== b.bucketStart) return a.bucketStart - b.bucketStart;
    for (const field of ORDER_FIELDS) {
      const c = compareText(a[field], b[field]);
      if (c !== 0) return c;
    }
    return 0;
  });
}

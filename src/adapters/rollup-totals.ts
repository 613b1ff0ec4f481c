import { mergeAllPartials } from '../domain/rollup-math.ts';
import { rollupRow, type Granularity, type RollupPartial, type RollupRow } from '../domain/rollup-types.ts';
import { decodePack, decodePackWhile, encodePack, PackEncoder, type PackEntry } from './rollup-pack-codec.ts';
import { unpackRows, type Pack } from './rollup-packs.ts';
import type { RollupQuery } from '../ports/storage.ts';

/**
 * Bucket totals (ADR 0024): one stored row per (org, tier, bucket) — table `rollup_totals` —
 * whose blob holds, for every metric with global rows in that bucket, the merge of all its
 * (project, tag) scopes: what a global pack's all-scopes entry holds (ADR 0013), or its only
 * entry. A question without a project or tag filter over many metrics (a 30-day series of
 * every metric, a summary) then reads one row per bucket instead of one per (bucket, metric):
 * ~57 rows instead of ~1,800 for the 30-day series.
 *
 * The blob is an ordinary pack (rollup-pack-codec.ts) whose entries have project = tag = '' and
 * the metric's name as their dimension value, in name order. Every write of global packs keeps
 * it exact in the same transaction: a whole-bucket replace writes it from the packs it writes,
 * a row-level change rewrites the entries of the metrics whose global pack it changed.
 */

/**
 * Fewest metrics a merging global read must name to be answered from bucket totals: a totals
 * row is decoded whole, so a read of a few metrics is cheaper from their own packs.
 */
export const TOTALS_READ_MIN_METRICS = 8;

/** Whether a rollup read is answered from bucket totals: merged global rows of many metrics (or every one). */
export function readsTotals(q: Pick<RollupQuery, 'mergeScopes' | 'dimName' | 'metrics' | 'project' | 'tag'>): boolean {
  return (
    q.mergeScopes === true && q.dimName === '' && q.project === undefined && q.tag === undefined &&
    (q.metrics === undefined || q.metrics.length >= TOTALS_READ_MIN_METRICS)
  );
}

/** What a global pack contributes to its bucket's totals: the merge of its scopes. */
export function scopesMerged(entries: readonly RollupPartial[]): RollupPartial {
  return entries.length === 1 ? entries[0]! : mergeAllPartials(entries);
}

function totalEntry(metric: string, p: RollupPartial): PackEntry {
  return { project: '', tag: '', dimValue: metric, count: p.count, sum: p.sum, min: p.min, max: p.max, sketch: p.sketch, lastValue: p.lastValue, lastTs: p.lastTs, hll: p.hll };
}

const byMetric = (a: PackEntry, b: PackEntry) => (a.dimValue < b.dimValue ? -1 : a.dimValue > b.dimValue ? 1 : 0);

/** The blob of one bucket's totals (metric → merged partial); null when no metric is left. */
export function encodeTotals(totals: ReadonlyMap<string, RollupPartial>, encoder?: PackEncoder): Buffer | null {
  if (totals.size === 0) return null;
  const entries: PackEntry[] = [];
  for (const [metric, partial] of totals) entries.push(totalEntry(metric, partial));
  entries.sort(byMetric);
  return encoder === undefined ? encodePack(entries) : encoder.encode(entries);
}

/** A bucket's totals, decoded (for a row-level change to rewrite some of them). */
export function decodeTotals(packed: Uint8Array): Map<string, RollupPartial> {
  const totals = new Map<string, RollupPartial>();
  decodePack(packed, (e) => {
    totals.set(e.dimValue, { count: e.count, sum: e.sum, min: e.min, max: e.max, sketch: e.sketch, lastValue: e.lastValue, lastTs: e.lastTs, hll: e.hll });
  });
  return totals;
}

/**
 * The rows of one bucket's totals a merging global read returns (project = tag = '', as a
 * global pack's all-scopes entry), appended to `out` in metric order; `wanted` null = every metric.
 */
export function unpackTotals(
  orgId: string,
  granularity: Granularity,
  bucketStart: number,
  packed: Uint8Array,
  wanted: ReadonlySet<string> | null,
  out: RollupRow[],
): void {
  decodePackWhile(packed, (e) => {
    if (wanted === null || wanted.has(e.dimValue)) out.push(rollupRow(orgId, granularity, bucketStart, e.dimValue, '', '', '', '', e));
    return true;
  });
}

export interface BucketTotals {
  bucketStart: number;
  /** null: the bucket has no global rows left (its totals row goes). */
  packed: Buffer | null;
}

/**
 * The totals of the given buckets of a whole-bucket replace, from the packs it writes (each
 * global pack carries its scopes' merge, `Pack.scopesMerged`). Every listed bucket is answered.
 */
export function totalsOfPacks(bucketStarts: Iterable<number>, packs: readonly Pack[], encoder?: PackEncoder): BucketTotals[] {
  const byBucket = new Map<number, Map<string, RollupPartial>>();
  for (const bucket of bucketStarts) byBucket.set(bucket, new Map());
  for (const pack of packs) {
    if (pack.scopesMerged === undefined) continue;
    const totals = byBucket.get(pack.bucketStart);
    if (totals === undefined) throw new Error(`rollup totals: pack of bucket ${pack.bucketStart} outside the replaced buckets`);
    totals.set(pack.metric, pack.scopesMerged);
  }
  return [...byBucket].map(([bucketStart, totals]) => ({ bucketStart, packed: encodeTotals(totals, encoder) }));
}

/** A change of one metric's total in one bucket: its new merge, or null when its global pack is gone. */
export interface TotalChange {
  granularity: Granularity;
  bucketStart: number;
  metric: string;
  total: RollupPartial | null;
}

export interface StoredTotals {
  granularity: Granularity;
  bucketStart: number;
  packed: Uint8Array;
}

export interface TotalsRewrite {
  write: Array<{ granularity: Granularity; bucketStart: number; packed: Buffer }>;
  remove: Array<{ granularity: Granularity; bucketStart: number }>;
}

export const totalsIdString = (granularity: Granularity, bucketStart: number) => `${granularity}\u0000${bucketStart}`;

/** The distinct (tier, bucket) pairs a set of changes touches. */
export function totalsIdsOf(changes: readonly TotalChange[]): Array<{ granularity: Granularity; bucketStart: number }> {
  const ids = new Map<string, { granularity: Granularity; bucketStart: number }>();
  for (const c of changes) ids.set(totalsIdString(c.granularity, c.bucketStart), { granularity: c.granularity, bucketStart: c.bucketStart });
  return [...ids.values()];
}

/** New totals of the buckets `changes` touch: the stored ones (absent = none yet) with those metrics replaced. */
export function rewriteTotals(stored: readonly StoredTotals[], changes: readonly TotalChange[]): TotalsRewrite {
  const buckets = new Map<string, { granularity: Granularity; bucketStart: number; before: Uint8Array | null; totals: Map<string, RollupPartial> }>();
  for (const s of stored) {
    buckets.set(totalsIdString(s.granularity, s.bucketStart), { granularity: s.granularity, bucketStart: s.bucketStart, before: s.packed, totals: decodeTotals(s.packed) });
  }
  for (const c of changes) {
    const id = totalsIdString(c.granularity, c.bucketStart);
    let bucket = buckets.get(id);
    if (bucket === undefined) buckets.set(id, (bucket = { granularity: c.granularity, bucketStart: c.bucketStart, before: null, totals: new Map() }));
    if (c.total === null) bucket.totals.delete(c.metric);
    else bucket.totals.set(c.metric, c.total);
  }
  const out: TotalsRewrite = { write: [], remove: [] };
  const encoder = new PackEncoder();
  for (const { granularity, bucketStart, before, totals } of buckets.values()) {
    const packed = encodeTotals(totals, encoder);
    if (packed === null) {
      if (before !== null) out.remove.push({ granularity, bucketStart });
    } else if (before === null || Buffer.compare(before, packed) !== 0) out.write.push({ granularity, bucketStart, packed });
  }
  return out;
}

/**
 * Builds totals from stored global packs given in (tier, bucket) order — the one-off backfill
 * of migration 063 over packs written before totals existed. `add` a pack at a time; a bucket's
 * totals go to `flush` when the next bucket starts, and at `finish`.
 */
export class TotalsBackfill {
  private granularity: Granularity | null = null;
  private bucketStart = NaN;
  private totals = new Map<string, RollupPartial>();
  private readonly encoder = new PackEncoder();

  constructor(private readonly flush: (granularity: Granularity, bucketStart: number, packed: Buffer) => void) {}

  add(granularity: Granularity, bucketStart: number, metric: string, packed: Uint8Array): void {
    if (granularity !== this.granularity || bucketStart !== this.bucketStart) {
      this.finish();
      this.granularity = granularity;
      this.bucketStart = bucketStart;
    }
    // The merging read's rows: a pack's all-scopes entry alone (ADR 0013), or every scope's
    // entry of a pack written before it (or of one scope), merged here.
    const rows: RollupRow[] = [];
    unpackRows('', granularity, { bucketStart, metric, dimName: '' }, packed, { mergeScopes: true }, rows);
    const total = rows.length > 0 ? scopesMerged(rows) : null;
    if (total !== null) this.totals.set(metric, total);
  }

  finish(): void {
    if (this.granularity !== null) {
      const packed = encodeTotals(this.totals, this.encoder);
      if (packed !== null) this.flush(this.granularity, this.bucketStart, packed);
    }
    this.granularity = null;
    this.bucketStart = NaN;
    this.totals = new Map();
  }
}

import type { Granularity, RollupRow } from '../domain/rollup-types.ts';
import { decodePack, PackEncoder } from './rollup-pack-codec.ts';

/**
 * The stored form of rollups (ADR 0006, migration 050): one row per (org, tier, bucket, metric,
 * dimension name) — a "pack" — whose `packed` blob holds every (project, tag, dimension value)
 * partial of that key. Row count then follows cardinality of the keys (metrics × dimensions ×
 * buckets), not of their values, and the per-row cost of a database (tuple header, primary-key
 * entry, repeated key text) is paid once per pack instead of once per value. Shared by both
 * adapters, so a blob written by one decodes in the other.
 *
 * The bytes of one pack (format versions, entry layout) are `rollup-pack-codec.ts`'s concern.
 */

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

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const entryOrder = (a: RollupRow, b: RollupRow) => compareText(a.project, b.project) || compareText(a.tag, b.tag) || compareText(a.dimValue, b.dimValue);
/** The same order when every entry has one project and tag (all dimension packs: '' and ''). */
const valueOrder = (a: RollupRow, b: RollupRow) => compareText(a.dimValue, b.dimValue);

function oneScope(entries: readonly RollupRow[]): boolean {
  const { project, tag } = entries[0]!;
  for (let i = 1; i < entries.length; i++) if (entries[i]!.project !== project || entries[i]!.tag !== tag) return false;
  return true;
}

/**
 * Rows grouped into packs, each pack's entries in (project, tag, value) order so the same rows
 * always give the same bytes. Packs come out in (bucket, metric, dimension) order. Their bytes
 * share the encoder's arenas (PackEncoder): packs of one encoder are meant to be written and
 * dropped together; callers packing many small sets for one write pass one encoder.
 */
export function packRows(rows: readonly RollupRow[], encoder = new PackEncoder()): Pack[] {
  const groups = new Map<number, Map<string, Map<string, RollupRow[]>>>();
  let lastBucket = NaN;
  let byMetric: Map<string, Map<string, RollupRow[]>> | undefined;
  for (const row of rows) {
    if (row.bucketStart !== lastBucket || byMetric === undefined) {
      lastBucket = row.bucketStart;
      byMetric = groups.get(lastBucket);
      if (byMetric === undefined) groups.set(lastBucket, (byMetric = new Map()));
    }
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
        const entries = byDim.get(dimName)!;
        const order = oneScope(entries) ? valueOrder : entryOrder;
        entries.sort(order);
        for (let i = 1; i < entries.length; i++) {
          if (order(entries[i - 1]!, entries[i]!) === 0) {
            throw new Error(`rollup pack: duplicate row ${bucketStart}/${metric}/${dimName}/${entries[i]!.project}/${entries[i]!.tag}/${entries[i]!.dimValue}`);
          }
        }
        packs.push({ bucketStart, metric, dimName, valueCount: entries.length, packed: encoder.encode(entries) });
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
  decodePack(packed, (e) => {
    if (filter.project !== undefined && e.project !== filter.project) return;
    if (filter.tag !== undefined && e.tag !== filter.tag) return;
    out.push({
      orgId,
      granularity,
      bucketStart: key.bucketStart,
      metric: key.metric,
      project: e.project,
      tag: e.tag,
      dimName: key.dimName,
      dimValue: e.dimValue,
      count: e.count,
      sum: e.sum,
      min: e.min,
      max: e.max,
      sketch: e.sketch,
      lastValue: e.lastValue,
      lastTs: e.lastTs,
      hll: e.hll,
    });
  });
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

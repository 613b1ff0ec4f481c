import { mergeAllPartials } from '../domain/rollup-math.ts';
import { ALL_SCOPES_PROJECT, ALL_SCOPES_TAG, rollupRow, type Granularity, type RollupPartial, type RollupRow } from '../domain/rollup-types.ts';
import { decodePackWhile, PackEncoder, type PackEntry } from './rollup-pack-codec.ts';

/**
 * The stored form of rollups (ADR 0006, migration 050): one row per (org, tier, bucket, metric,
 * dimension name) — a "pack" — whose `packed` blob holds every (project, tag, dimension value)
 * partial of that key. Row count then follows cardinality of the keys (metrics × dimensions ×
 * buckets), not of their values, and the per-row cost of a database (tuple header, primary-key
 * entry, repeated key text) is paid once per pack instead of once per value. Shared by both
 * adapters, so a blob written by one decodes in the other.
 *
 * The bytes of one pack (format versions, entry layout) are `rollup-pack-codec.ts`'s concern.
 *
 * A global pack (dimension name '') with partials of several (project, tag) scopes also holds
 * their merge as one more entry keyed (ALL_SCOPES_PROJECT, ALL_SCOPES_TAG, '') — the key
 * dimension packs use for "every scope"; no global row has it, an event's project is never
 * empty (ADR 0013). It sorts first, so a read that does not filter by project or tag decodes
 * that entry alone (`mergeScopes`) instead of every scope's entry to merge them itself; every
 * other read skips it. It is not a partial of its own: `valueCount` does not count it. Packs
 * written before it (and global packs of one scope) have none and are read entry by entry.
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
  /** Global packs: the merge of their scopes (the all-scopes entry, or the one entry), for the bucket's totals (ADR 0024). */
  scopesMerged?: RollupPartial;
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
        packs.push(packOne({ bucketStart, metric, dimName }, byDim.get(dimName)!, encoder));
      }
    }
  }
  return packs;
}

/** One pack of `entries` (rows of that pack, any order; sorted here, in place). */
export function packOne(key: PackKey, entries: RollupRow[], encoder: PackEncoder): Pack {
  const { bucketStart, metric, dimName } = key;
  const order = oneScope(entries) ? valueOrder : entryOrder;
  if (!isSorted(entries, order)) entries.sort(order);
  for (let i = 1; i < entries.length; i++) {
    if (order(entries[i - 1]!, entries[i]!) === 0) {
      throw new Error(`rollup pack: duplicate row ${bucketStart}/${metric}/${dimName}/${entries[i]!.project}/${entries[i]!.tag}/${entries[i]!.dimValue}`);
    }
  }
  if (dimName !== '') return { bucketStart, metric, dimName, valueCount: entries.length, packed: encoder.encode(entries) };
  if (entries.length === 1) return { bucketStart, metric, dimName, valueCount: 1, packed: encoder.encode(entries), scopesMerged: entries[0]! };
  const merged = allScopesEntry(entries);
  return { bucketStart, metric, dimName, valueCount: entries.length, packed: encoder.encode([merged, ...entries]), scopesMerged: merged };
}

function isSorted(entries: readonly RollupRow[], order: (a: RollupRow, b: RollupRow) => number): boolean {
  for (let i = 1; i < entries.length; i++) if (order(entries[i - 1]!, entries[i]!) > 0) return false;
  return true;
}

const isAllScopes = (entry: Pick<RollupRow, 'project' | 'tag' | 'dimValue'>) =>
  entry.project === ALL_SCOPES_PROJECT && entry.tag === ALL_SCOPES_TAG && entry.dimValue === '';

/** The merge of a global pack's scope entries (see the module comment); sums add in entry order. */
function allScopesEntry(entries: readonly RollupRow[]): PackEntry {
  const first = entries[0]!;
  if (isAllScopes(first)) {
    throw new Error(`rollup pack: global row ${first.bucketStart}/${first.metric} without a project (the all-scopes key)`);
  }
  return { project: ALL_SCOPES_PROJECT, tag: ALL_SCOPES_TAG, dimValue: '', ...mergeAllPartials(entries) };
}

export interface UnpackFilter {
  project?: string | undefined;
  tag?: string | undefined;
  /**
   * The caller merges every row of a (bucket, metric, dimension value) and never reads project
   * or tag: a global pack's all-scopes entry then stands for its scope entries (one row,
   * project = tag = ''). Only without a project or tag filter.
   */
  mergeScopes?: boolean | undefined;
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
  const mergeScopes = filter.mergeScopes === true;
  if (mergeScopes && (filter.project !== undefined || filter.tag !== undefined)) {
    throw new Error('unpackRows: mergeScopes with a project or tag filter');
  }
  const global = key.dimName === '';
  decodePackWhile(packed, (e) => {
    // In a global pack the all-scopes entry is first when present: either all a merging read needs, or a copy of the rest.
    const allScopes = global && isAllScopes(e);
    if (allScopes && !mergeScopes) return true;
    if (filter.project !== undefined && e.project !== filter.project) return true;
    if (filter.tag !== undefined && e.tag !== filter.tag) return true;
    out.push(rollupRow(orgId, granularity, key.bucketStart, key.metric, e.project, e.tag, key.dimName, e.dimValue, e));
    return !allScopes;
  });
}

/**
 * For a merging read (`mergeScopes`) that fetched only the first bytes of a global pack: its
 * all-scopes entry, appended to `out`, when those bytes hold all of it. False when they do not
 * or the pack has no such entry (written before it, or of one scope): read the whole pack then.
 */
export function unpackAllScopesEntry(orgId: string, granularity: Granularity, key: PackKey, prefix: Uint8Array, out: RollupRow[]): boolean {
  if (key.dimName !== '') return false;
  const found: RollupRow[] = [];
  try {
    unpackRows(orgId, granularity, key, prefix, { mergeScopes: true }, found);
  } catch {
    // Cut inside the first entry (or the scope table before it): the whole pack decides.
    return false;
  }
  const first = found[0];
  if (first === undefined || !isAllScopes(first)) return false;
  out.push(first);
  return true;
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

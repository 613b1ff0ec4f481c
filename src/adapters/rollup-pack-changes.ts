import type { Granularity, RollupKey, RollupRow } from '../domain/rollup-types.ts';
import { packRows, unpackRows, type Pack } from './rollup-packs.ts';

/**
 * Row-level changes (ADR 0007) applied to the packed layout (ADR 0006): a key lives in the pack
 * of its (tier, bucket, metric, dimension name), so reading or changing a few keys reads and
 * rewrites only the packs that hold them. Shared by both adapters; the SQL stays with them.
 */

export interface PackId {
  granularity: Granularity;
  bucketStart: number;
  metric: string;
  dimName: string;
}

export interface StoredPackBlob extends PackId {
  packed: Uint8Array;
}

export function packIdString(k: PackId): string {
  return `${k.granularity}\u0000${k.bucketStart}\u0000${k.metric}\u0000${k.dimName}`;
}

/** Identity of a row inside its pack. */
function entryKey(k: Pick<RollupKey, 'project' | 'tag' | 'dimValue'>): string {
  return `${k.project}\u0000${k.tag}\u0000${k.dimValue}`;
}

/** The distinct packs holding the given keys. */
export function packIdsOf(keys: Iterable<PackId>): PackId[] {
  const ids = new Map<string, PackId>();
  for (const k of keys) {
    const id = packIdString(k);
    if (!ids.has(id)) ids.set(id, { granularity: k.granularity, bucketStart: k.bucketStart, metric: k.metric, dimName: k.dimName });
  }
  return [...ids.values()];
}

/** The rows of the stored packs whose keys were asked for. */
export function rowsForKeys(orgId: string, packs: readonly StoredPackBlob[], keys: readonly RollupKey[]): RollupRow[] {
  const wanted = new Set(keys.map((k) => `${packIdString(k)}\u0001${entryKey(k)}`));
  const out: RollupRow[] = [];
  for (const pack of packs) {
    const rows: RollupRow[] = [];
    unpackRows(orgId, pack.granularity, pack, pack.packed, {}, rows);
    const id = packIdString(pack);
    for (const row of rows) if (wanted.has(`${id}\u0001${entryKey(row)}`)) out.push(row);
  }
  return out;
}

export interface PackRewrite {
  /** Packs to store (insert or replace), with their new contents. */
  write: Array<PackId & Pick<Pack, 'valueCount' | 'packed'>>;
  /** Packs left with no entry. */
  remove: PackId[];
}

/**
 * The new contents of every pack the changes touch: stored entries, minus deletes, with upserts
 * replacing or adding entries. `stored` holds the current blobs of (some of) those packs; a pack
 * not among them starts empty.
 */
export function rewritePacks(
  orgId: string,
  stored: readonly StoredPackBlob[],
  upserts: readonly RollupRow[],
  deletes: readonly RollupKey[],
): PackRewrite {
  const entries = new Map<string, { id: PackId; rows: Map<string, RollupRow> }>();
  const slot = (k: PackId) => {
    const id = packIdString(k);
    let found = entries.get(id);
    if (found === undefined) {
      found = { id: { granularity: k.granularity, bucketStart: k.bucketStart, metric: k.metric, dimName: k.dimName }, rows: new Map() };
      entries.set(id, found);
    }
    return found;
  };
  for (const pack of stored) {
    const rows: RollupRow[] = [];
    unpackRows(orgId, pack.granularity, pack, pack.packed, {}, rows);
    const target = slot(pack);
    for (const row of rows) target.rows.set(entryKey(row), row);
  }
  for (const key of deletes) slot(key).rows.delete(entryKey(key));
  for (const row of upserts) slot(row).rows.set(entryKey(row), row);

  const out: PackRewrite = { write: [], remove: [] };
  for (const { id, rows } of entries.values()) {
    if (rows.size === 0) {
      out.remove.push(id);
      continue;
    }
    const [pack] = packRows([...rows.values()]);
    out.write.push({ ...id, valueCount: pack!.valueCount, packed: pack!.packed });
  }
  return out;
}

import type { Granularity, RollupKey, RollupRow } from '../domain/rollup-types.ts';
import { packRows, unpackRows, type Pack } from './rollup-packs.ts';
import { PackEncoder } from './rollup-pack-codec.ts';

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

/** A pack's entries, decoded: entry key (project, tag, value) → row, in the pack's order. */
type Entries = Map<string, RollupRow>;

function decodeEntries(orgId: string, pack: StoredPackBlob): Entries {
  const rows: RollupRow[] = [];
  unpackRows(orgId, pack.granularity, pack, pack.packed, {}, rows);
  const entries: Entries = new Map();
  for (const row of rows) entries.set(entryKey(row), row);
  return entries;
}

/** Upper bound on the entries kept between a pass's by-key read and its write (past it, the write decodes again). */
const MAX_KEPT_ENTRIES = 200_000;

/**
 * Packs decoded by a by-key read, kept for the write that follows it in the same pass, so that
 * a steady pass decodes each pack once. Never trusted blindly: the write re-reads the blobs
 * inside its transaction and reuses a decoded pack only when its bytes are still the same,
 * so a stale entry costs a decode, never a wrong number. One per adapter instance; holds at
 * most what the last by-key read decoded (each read starts afresh, each write empties it).
 */
export class DecodedPacks {
  private readonly kept = new Map<string, { packed: Uint8Array; entries: Entries }>();
  private entries = 0;

  /** The pack's entries, decoded now or reused; kept for a later `take`. */
  read(orgId: string, pack: StoredPackBlob): Entries {
    const id = `${orgId}\u0001${packIdString(pack)}`;
    const found = this.kept.get(id);
    if (found !== undefined && Buffer.compare(found.packed, pack.packed) === 0) return found.entries;
    const entries = decodeEntries(orgId, pack);
    if (found !== undefined) this.entries -= found.entries.size;
    if (this.entries + entries.size > MAX_KEPT_ENTRIES) this.clear();
    this.kept.set(id, { packed: pack.packed, entries });
    this.entries += entries.size;
    return entries;
  }

  /** The pack's entries for the caller to change: reused when the bytes match, and no longer kept. */
  take(orgId: string, pack: StoredPackBlob): Entries {
    const id = `${orgId}\u0001${packIdString(pack)}`;
    const found = this.kept.get(id);
    if (found === undefined) return decodeEntries(orgId, pack);
    this.kept.delete(id);
    this.entries -= found.entries.size;
    return Buffer.compare(found.packed, pack.packed) === 0 ? found.entries : decodeEntries(orgId, pack);
  }

  clear(): void {
    this.kept.clear();
    this.entries = 0;
  }
}

/** The rows of the stored packs whose keys were asked for. */
export function rowsForKeys(orgId: string, packs: readonly StoredPackBlob[], keys: readonly RollupKey[], decoded: DecodedPacks): RollupRow[] {
  const wanted = new Map<string, string[]>();
  for (const k of keys) {
    const id = packIdString(k);
    const inPack = wanted.get(id);
    if (inPack === undefined) wanted.set(id, [entryKey(k)]);
    else inPack.push(entryKey(k));
  }
  const out: RollupRow[] = [];
  decoded.clear();
  for (const pack of packs) {
    const entries = decoded.read(orgId, pack);
    for (const key of wanted.get(packIdString(pack)) ?? []) {
      const row = entries.get(key);
      if (row !== undefined) out.push(row);
    }
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
 * not among them starts empty. Packs decoded by this pass's by-key read are reused when unchanged.
 */
export function rewritePacks(
  orgId: string,
  stored: readonly StoredPackBlob[],
  upserts: readonly RollupRow[],
  deletes: readonly RollupKey[],
  decoded: DecodedPacks,
): PackRewrite {
  const entries = new Map<string, { id: PackId; rows: Entries }>();
  const slot = (k: PackId) => {
    const id = packIdString(k);
    let found = entries.get(id);
    if (found === undefined) {
      found = { id: { granularity: k.granularity, bucketStart: k.bucketStart, metric: k.metric, dimName: k.dimName }, rows: new Map() };
      entries.set(id, found);
    }
    return found;
  };
  for (const pack of stored) slot(pack).rows = decoded.take(orgId, pack);
  // What the read kept and the write did not need is of no further use.
  decoded.clear();
  for (const key of deletes) slot(key).rows.delete(entryKey(key));
  for (const row of upserts) slot(row).rows.set(entryKey(row), row);

  const out: PackRewrite = { write: [], remove: [] };
  // One encoder for the whole write: its packs share arenas and are dropped together.
  const encoder = new PackEncoder();
  for (const { id, rows } of entries.values()) {
    if (rows.size === 0) {
      out.remove.push(id);
      continue;
    }
    const [pack] = packRows([...rows.values()], encoder);
    out.write.push({ ...id, valueCount: pack!.valueCount, packed: pack!.packed });
  }
  return out;
}

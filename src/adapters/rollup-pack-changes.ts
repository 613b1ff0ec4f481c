import type { Granularity, RollupKey, RollupRow } from '../domain/rollup-types.ts';
import { packOne, unpackRows, type Pack } from './rollup-packs.ts';
import { PackEncoder } from './rollup-pack-codec.ts';
import type { TotalChange } from './rollup-totals.ts';

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
  /**
   * The engine's version of the stored row, when it has one that changes with every write of
   * it (PostgreSQL: `xmin`): a write holding the same version may reuse the bytes its read kept
   * instead of reading them again (ADR 0015).
   */
  version?: string;
}

export function packIdString(k: PackId): string {
  return `${k.granularity}\u0000${k.bucketStart}\u0000${k.metric}\u0000${k.dimName}`;
}

const samePack = (a: PackId, b: PackId) => a.bucketStart === b.bucketStart && a.metric === b.metric && a.dimName === b.dimName && a.granularity === b.granularity;

/**
 * `packIdString` of each key in turn, built only when the key is in another pack than the key
 * before it: a pass lists its keys pack after pack (an accumulator emits them so), and a string
 * per key was a tenth of a steady pass (ADR 0015).
 */
class PackIdStrings {
  private last: PackId | null = null;
  private lastId = '';

  of(k: PackId): string {
    if (this.last === null || !samePack(this.last, k)) {
      this.last = k;
      this.lastId = packIdString(k);
    }
    return this.lastId;
  }
}

/**
 * Identity of a row inside its pack. Dimension packs hold only all-scope entries (project = tag
 * = '', ADR 0006) and global packs only entries with a project, so the value alone identifies
 * the first without building a string.
 */
function entryKey(k: Pick<RollupKey, 'project' | 'tag' | 'dimValue'>): string {
  return k.project === '' && k.tag === '' ? k.dimValue : `${k.project}\u0000${k.tag}\u0000${k.dimValue}\u0000`;
}

/** The distinct packs holding the given keys. */
export function packIdsOf(keys: Iterable<PackId>): PackId[] {
  const ids = new Map<string, PackId>();
  let last: PackId | null = null;
  for (const k of keys) {
    if (last !== null && samePack(last, k)) continue;
    last = k;
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

const sameBytes = (a: Uint8Array, b: Uint8Array) => a === b || Buffer.compare(a, b) === 0;

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
  private readonly kept = new Map<string, { packed: Uint8Array; version: string | undefined; entries: Entries }>();
  private entries = 0;

  /** The pack's entries, decoded now or reused; kept for a later `take`. */
  read(orgId: string, pack: StoredPackBlob): Entries {
    const id = `${orgId}\u0001${packIdString(pack)}`;
    const found = this.kept.get(id);
    if (found !== undefined && sameBytes(found.packed, pack.packed)) return found.entries;
    const entries = decodeEntries(orgId, pack);
    if (found !== undefined) this.entries -= found.entries.size;
    if (this.entries + entries.size > MAX_KEPT_ENTRIES) this.clear();
    this.kept.set(id, { packed: pack.packed, version: pack.version, entries });
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
    return sameBytes(found.packed, pack.packed) ? found.entries : decodeEntries(orgId, pack);
  }

  /** The bytes and version of the pack kept by the last read, if it kept it with a version. */
  keptVersion(orgId: string, id: PackId): { version: string; packed: Uint8Array } | undefined {
    const found = this.kept.get(`${orgId}\u0001${packIdString(id)}`);
    return found?.version === undefined ? undefined : { version: found.version, packed: found.packed };
  }

  clear(): void {
    this.kept.clear();
    this.entries = 0;
  }
}

/** The rows of the stored packs whose keys were asked for. */
export function rowsForKeys(orgId: string, packs: readonly StoredPackBlob[], keys: readonly RollupKey[], decoded: DecodedPacks): RollupRow[] {
  const wanted = new Map<string, string[]>();
  const ids = new PackIdStrings();
  for (const k of keys) {
    const id = ids.of(k);
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
  /** Global packs changed or removed: their metric's new total in its bucket's totals (ADR 0024). */
  totals: TotalChange[];
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
  const entries = new Map<string, Slot>();
  const ids = new PackIdStrings();
  let last: Slot | undefined;
  let lastId = '';
  const slot = (k: PackId): Slot => {
    const id = ids.of(k);
    if (last !== undefined && id === lastId) return last;
    let found = entries.get(id);
    if (found === undefined) {
      found = { id: { granularity: k.granularity, bucketStart: k.bucketStart, metric: k.metric, dimName: k.dimName }, rows: new Map(), stored: null, touched: new Set() };
      entries.set(id, found);
    }
    last = found;
    lastId = id;
    return found;
  };
  for (const pack of stored) {
    const found = slot(pack);
    found.rows = decoded.take(orgId, pack);
    found.stored = pack.packed;
  }
  // What the read kept and the write did not need is of no further use.
  decoded.clear();
  // A key listed twice is the caller's bug (the port refuses it); found here, where every key's
  // entry identity is built anyway, rather than by a string per key beforehand.
  const touch = (found: Slot, key: RollupKey, entry: string) => {
    if (found.touched.has(entry)) {
      throw new Error(`writeRollupRows(${orgId}): key ${key.granularity}/${key.bucketStart}/${key.metric}/${key.dimName}=${key.dimValue} listed twice`);
    }
    found.touched.add(entry);
  };
  for (const key of deletes) {
    const found = slot(key);
    const entry = entryKey(key);
    touch(found, key, entry);
    found.rows.delete(entry);
  }
  for (const row of upserts) {
    const found = slot(row);
    const entry = entryKey(row);
    touch(found, row, entry);
    found.rows.set(entry, row);
  }

  const out: PackRewrite = { write: [], remove: [], totals: [] };
  // One encoder for the whole write: its packs share arenas and are dropped together.
  const encoder = new PackEncoder();
  for (const { id, rows, stored: before } of entries.values()) {
    if (rows.size === 0) {
      out.remove.push(id);
      if (id.dimName === '') out.totals.push({ granularity: id.granularity, bucketStart: id.bucketStart, metric: id.metric, total: null });
      continue;
    }
    const pack = packOne(id, [...rows.values()], encoder);
    // Same entries, same bytes (packs are canonical): nothing to write.
    if (before !== null && Buffer.compare(before, pack.packed) === 0) continue;
    out.write.push({ ...id, valueCount: pack.valueCount, packed: pack.packed });
    if (pack.scopesMerged !== undefined) out.totals.push({ granularity: id.granularity, bucketStart: id.bucketStart, metric: id.metric, total: pack.scopesMerged });
  }
  return out;
}

interface Slot {
  id: PackId;
  rows: Entries;
  /** The blob as stored, null for a pack that does not exist yet. */
  stored: Uint8Array | null;
  /** Entries changed by this write (to refuse a key listed twice). */
  touched: Set<string>;
}

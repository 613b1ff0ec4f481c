import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePack, encodePack, impliedSketch, PackEncoder } from '../../src/adapters/rollup-pack-codec.ts';
import { packRows } from '../../src/adapters/rollup-packs.ts';
import type { RollupRow } from '../../src/domain/rollup-types.ts';
import { encodeValues, sharedMapping } from '../../src/domain/sketch.ts';

/**
 * Format 2's bytes are pinned (ADR 0008, ADR 0012): the same rows give the same bytes as the
 * encoder of commit a143cea, whatever the encoder's internals (a shared output arena, an ASCII
 * fast path, implied sketches checked without encoding them). A stored pack whose bytes did not
 * change is not rewritten by PostgreSQL, so a silent format drift would rewrite every pack.
 */

function rows(): RollupRow[] {
  let seed = 20_261_202;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const values = [0, -0, 1, 7, -3, 0.1, 1 / 3, 1e-12, -1e-12, 2 ** 53 - 1, -(2 ** 40), 1e300, 123.456, 5e-324, Infinity, -Infinity, NaN];
  const texts = ['', 'a', 'gpt-4o', 'gpt-4o-mini', 'user-0001', 'user-0002', 'välue ☃', 'a\u{1F600}x', 'a\u{1F601}y', 'x'.repeat(200), 'ü'.repeat(70)];
  const out: RollupRow[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < 3_000; i++) {
    const global = random() < 0.4;
    const metric = `metric-${Math.floor(random() * 4)}`;
    const dimName = global ? '' : ['model', 'user_id'][Math.floor(random() * 2)]!;
    const dimValue = global ? '' : `${texts[Math.floor(random() * texts.length)]}${random() < 0.5 ? Math.floor(random() * 50) : ''}`;
    const project = global ? ['p1', 'p2', 'pröject', ''][Math.floor(random() * 4)]! : '';
    const tag = global ? ['', 'eu', 'us'][Math.floor(random() * 3)]! : '';
    const bucketStart = 1_800_000_000_000 + Math.floor(random() * 3) * 3_600_000;
    const key = [bucketStart, metric, dimName, dimValue, project, tag].join('|');
    if (seen.has(key)) continue;
    seen.add(key);
    const kind = Math.floor(random() * 6);
    const count = kind === 5 ? 257 + Math.floor(random() * 10) : 1 + Math.floor(random() * 300);
    const v = values[Math.floor(random() * values.length)]!;
    const w = values[Math.floor(random() * values.length)]!;
    const same = kind === 0 || kind === 5 || random() < 0.3;
    out.push({
      orgId: 'org', granularity: 'hour', bucketStart, metric, project, tag, dimName, dimValue,
      count,
      sum: kind === 1 ? count : same ? v * (random() < 0.5 ? 1 : count) : v + w,
      min: kind === 1 ? 1 : same ? v : Math.min(v, w),
      max: kind === 1 ? 1 : same ? v : Math.max(v, w),
      sketch: kind === 1 ? null : random() < 0.8 ? encodeValues(new Array<number>(Math.min(count, 400)).fill(v)) : encodeValues([v, w, v]),
      lastValue: kind === 2 ? w : null,
      lastTs: kind === 2 ? 1_800_000_000_000 + i : null,
      hll: kind === 3 ? Uint8Array.from({ length: 1 + (i % 40) }, (_, j) => (i * j) % 256) : null,
    });
  }
  return out;
}

const digest = (buffers: readonly Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const buffer of buffers) hash.update(buffer);
  return hash.digest('hex');
};

/** The rows as packRows groups them, each group in its entry order (project, tag, value). */
function groups(all: readonly RollupRow[]): RollupRow[][] {
  const byKey = new Map<string, RollupRow[]>();
  for (const row of all) {
    const key = `${row.bucketStart}|${row.metric}|${row.dimName}`;
    const list = byKey.get(key);
    if (list) list.push(row);
    else byKey.set(key, [row]);
  }
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byKey.values()]
    .sort((a, b) => a[0]!.bucketStart - b[0]!.bucketStart || text(a[0]!.metric, b[0]!.metric) || text(a[0]!.dimName, b[0]!.dimName))
    .map((list) => list.sort((a, b) => text(a.project, b.project) || text(a.tag, b.tag) || text(a.dimValue, b.dimValue)));
}

describe('rollup pack bytes (format 2)', () => {
  it('are the bytes of the format-2 encoder as first written', () => {
    const packed = groups(rows()).map((entries) => encodePack(entries));
    expect(packed.length).toBeGreaterThan(20);
    expect(digest(packed)).toBe('11f03fd255eb23fb153047530dd4661ca7ec9fc95c26742a0045397efc6f4cda');
  });

  it('are the same from one shared PackEncoder (its arenas) as from encodePack, pack by pack', () => {
    const encoder = new PackEncoder();
    const all = groups(rows());
    const shared = all.map((entries) => encoder.encode(entries));
    all.forEach((entries, i) => expect(Buffer.compare(encodePack(entries), shared[i]!)).toBe(0));
  });

  it('packRows encodes each pack with those bytes (global packs of several scopes lead with their merge, ADR 0013)', () => {
    // An event's project is never empty: '' is the all-scopes key, so global rows here have one.
    // The merge needs real distinct sketches; the bytes above are arbitrary, so none here.
    const all = rows()
      .filter((row) => row.dimName !== '' || row.project !== '')
      .map((row) => ({ ...row, hll: null }));
    const packs = packRows(all);
    const expected = groups(all);
    expect(packs).toHaveLength(expected.length);
    packs.forEach((pack, i) => {
      const entries = expected[i]!;
      const decoded: Array<{ project: string; tag: string; dimValue: string }> = [];
      decodePack(pack.packed, (entry) => decoded.push({ project: entry.project, tag: entry.tag, dimValue: entry.dimValue }));
      const leading = pack.dimName === '' && entries.length > 1 ? 1 : 0;
      expect(decoded.slice(leading)).toEqual(entries.map(({ project, tag, dimValue }) => ({ project, tag, dimValue })));
      if (leading === 0) expect(Buffer.compare(encodePack(entries), pack.packed)).toBe(0);
      else expect(decoded[0]).toEqual({ project: '', tag: '', dimValue: '' });
    });
  });

  it('derive an implied sketch exactly as encodeValues encodes count equal values', () => {
    const limit = sharedMapping.minPossible;
    const values = [0, -0, limit, -limit, limit * 1.5, -limit * 1.5, 5e-324, 1e-300, 1, -1, 0.5, 7, -3, 1 / 3, 1e6, 2 ** 53, 1e300, -1e300, Infinity, -Infinity, NaN];
    for (let i = 0; i < 200; i++) values.push((i % 2 === 0 ? 1 : -1) * Math.exp((i - 100) / 3));
    for (const value of values) {
      for (const count of [1, 2, 3, 127, 128, 129, 200, 255, 256]) {
        expect([...impliedSketch(count, value)], `${count} × ${value}`).toEqual([...encodeValues(new Array<number>(count).fill(value))]);
      }
    }
  });
});

describe('rollup pack decoding', () => {
  const entry = (project: string, tag: string, dimValue: string, count: number) => ({
    project, tag, dimValue, count, sum: count, min: 1, max: 1, sketch: null, lastValue: null, lastTs: null, hll: null,
  });
  const decoded = (packed: Uint8Array) => {
    const out: string[] = [];
    decodePack(packed, (e) => void out.push(`${e.project}/${e.tag}/${e.dimValue}=${e.count}`));
    return out;
  };

  it('keeps each pack its own projects and tags when a visit decodes another pack', () => {
    const outer = encodePack([entry('p1', 'eu', '', 1), entry('p1', 'us', '', 2), entry('p2', 'eu', '', 3)]);
    const inner = encodePack([entry('other', 'x', '', 4), entry('third', '', '', 5), entry('zeta', 'y', '', 6)]);
    const seen: string[] = [];
    decodePack(outer, (e) => {
      seen.push(`${e.project}/${e.tag}/${e.dimValue}=${e.count}`);
      if (e.count === 1) seen.push(...decoded(inner).map((text) => `inner ${text}`));
    });
    expect(seen).toEqual(['p1/eu/=1', 'inner other/x/=4', 'inner third//=5', 'inner zeta/y/=6', 'p1/us/=2', 'p2/eu/=3']);
    // The shared table is free again: the next decodes see their own texts.
    expect(decoded(inner)).toEqual(['other/x/=4', 'third//=5', 'zeta/y/=6']);
    expect(decoded(outer)).toEqual(['p1/eu/=1', 'p1/us/=2', 'p2/eu/=3']);
  });

  it('refuses a table that claims more projects and tags than the pack has bytes', () => {
    // Format 2, then a count of 2^21 as a varint, and nothing else.
    const corrupt = Uint8Array.from([2, 0x80, 0x80, 0x80, 0x01]);
    expect(() => decoded(corrupt)).toThrow('rollup pack: bad project/tag count');
    expect(decoded(encodePack([entry('p', '', '', 7)]))).toEqual(['p//=7']);
  });
});

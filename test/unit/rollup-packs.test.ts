import { describe, expect, it } from 'vitest';
import { packRows, unpackRows } from '../../src/adapters/rollup-packs.ts';
import type { RollupRow } from '../../src/domain/rollup-types.ts';
import { encodeValues } from '../../src/domain/sketch.ts';
import { DistinctSketch, distinctHash } from '../../src/domain/distinct-sketch.ts';
import { encodePack } from '../../src/adapters/rollup-pack-codec.ts';
import { mergeAllPartials } from '../../src/domain/rollup-math.ts';
import type { RollupPartial } from '../../src/domain/rollup-types.ts';

/** The packed storage form (ADR 0006) must give back exactly the rows it was given. */

function row(overrides: Partial<RollupRow>): RollupRow {
  return {
    orgId: 'org', granularity: 'hour', bucketStart: 1_800_000_000_000, metric: 'm', project: 'p', tag: '', dimName: '', dimValue: '',
    count: 1, sum: 1, min: 1, max: 1, sketch: null, lastValue: null, lastTs: null, hll: null, ...overrides,
  };
}

function unpackAll(rows: readonly RollupRow[], filter: { project?: string; tag?: string } = {}): RollupRow[] {
  const out: RollupRow[] = [];
  for (const pack of packRows(rows)) unpackRows('org', 'hour', pack, pack.packed, filter, out);
  return out;
}

function distinctOf(i: number): Uint8Array {
  const sketch = new DistinctSketch();
  for (let j = 0; j < 1 + (i % 7); j++) sketch.add(distinctHash(`user-${i}-${j}`)!);
  return sketch.encode();
}

const pick = (p: RollupPartial): RollupPartial => ({
  count: p.count, sum: p.sum, min: p.min, max: p.max, sketch: p.sketch, lastValue: p.lastValue, lastTs: p.lastTs, hll: p.hll,
});

const key = (r: RollupRow) => [r.bucketStart, r.metric, r.dimName, r.project, r.tag, r.dimValue].join('|');
const sorted = (rows: readonly RollupRow[]) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1));

describe('rollup packs', () => {
  it('round-trips every kind of partial bit for bit', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const rows: RollupRow[] = [];
    for (let i = 0; i < 400; i++) {
      const kind = i % 6;
      const values = [random() * 1e6 - 5e5, Math.round(random() * 1e9), -0, 1e300, 2 ** 53 - 1, 1 / 3];
      rows.push(
        row({
          bucketStart: 1_800_000_000_000 + (i % 3) * 3_600_000,
          metric: `metric-${i % 5}`,
          dimName: i % 4 === 0 ? '' : 'model',
          dimValue: i % 4 === 0 ? '' : `välue ${i} "quoted" \\ ☃`,
          project: i % 4 === 0 ? `project-${i}` : '',
          tag: i % 4 === 0 ? (i % 8 === 0 ? '' : 'eu') : '',
          count: kind === 0 ? 1 + (i % 50) : 1 + Math.floor(random() * 2 ** 40),
          sum: kind === 0 ? 1 + (i % 50) : values[i % values.length]!,
          min: kind === 0 ? 1 : values[(i + 1) % values.length]!,
          max: kind === 0 ? 1 : values[(i + 2) % values.length]!,
          // Global packs of several scopes also store their merge (ADR 0013): their sketches must be real ones.
          sketch: kind === 2 ? (i % 4 === 0 ? encodeValues([i, i / 3, 1e6 + i]) : Uint8Array.from({ length: 1 + (i % 40) }, (_, j) => (i * j) % 256)) : null,
          lastValue: kind === 3 ? values[i % values.length]! : null,
          lastTs: kind === 3 ? 1_800_000_000_000 + i : null,
          hll: kind === 4 ? (i % 4 === 0 ? distinctOf(i) : Uint8Array.from({ length: 300 }, (_, j) => (i + j) % 256)) : null,
        }),
      );
    }
    const back = unpackAll(rows);
    expect(back).toHaveLength(rows.length);
    const byKey = new Map(rows.map((r) => [key(r), r]));
    for (const got of back) {
      const sent = byKey.get(key(got))!;
      expect(got).toEqual({ ...sent, orgId: 'org', granularity: 'hour' });
      expect(Object.is(got.sum, sent.sum) && Object.is(got.min, sent.min) && Object.is(got.max, sent.max)).toBe(true);
    }
  });

  it('packs one row per (bucket, metric, dimension name) and gives the same bytes whatever the input order', () => {
    const rows = [
      row({ dimName: 'model', dimValue: 'b', project: '', count: 2, sum: 2 }),
      row({ dimName: 'model', dimValue: 'a', project: '' }),
      row({ project: 'x' }),
      row({ project: 'y', tag: 'eu', count: 3, sum: 4.5, min: 0.5, max: 2 }),
      row({ metric: 'n', project: 'x' }),
    ];
    const packs = packRows(rows);
    expect(packs.map((p) => [p.metric, p.dimName, p.valueCount])).toEqual([['m', '', 2], ['m', 'model', 2], ['n', '', 1]]);
    const again = packRows([...rows].reverse());
    expect(again.map((p) => p.packed.toString('hex'))).toEqual(packs.map((p) => p.packed.toString('hex')));
    expect(sorted(unpackAll(rows))).toEqual(sorted(rows));
  });

  it('keeps partials whose sum, min and max are equal (stored once) exact, including -0 and fractions', () => {
    const rows = [
      row({ project: 'a', count: 1, sum: 7, min: 7, max: 7 }),
      row({ project: 'b', count: 3, sum: -0, min: -0, max: -0 }),
      row({ project: 'c', count: 1, sum: 0.1, min: 0.1, max: 0.1 }),
      row({ project: 'd', count: 2, sum: 1, min: 1, max: 1 }),
    ];
    const back = sorted(unpackAll(rows));
    expect(back).toEqual(sorted(rows));
    expect(Object.is(back[1]!.sum, -0) && Object.is(back[1]!.max, -0)).toBe(true);
  });

  it('filters entries by project and tag', () => {
    const rows = [row({ project: 'x' }), row({ project: 'x', tag: 'eu', count: 2, sum: 2 }), row({ project: 'y', tag: 'eu', count: 5, sum: 5 })];
    expect(unpackAll(rows, { project: 'x' }).map((r) => r.count)).toEqual([1, 2]);
    expect(unpackAll(rows, { tag: 'eu' }).map((r) => r.count)).toEqual([2, 5]);
    expect(unpackAll(rows, { project: 'y', tag: '' })).toEqual([]);
  });

  it('rejects two rows with the same key', () => {
    expect(() => packRows([row({}), row({ count: 2, sum: 2 })])).toThrow(/duplicate/);
  });

  it('stores a single-valued sketch as nothing and a shared value prefix once, and gives both back', () => {
    const users = Array.from({ length: 50 }, (_, i) => `user-${String(i).padStart(4, '0')}`);
    const rows = users.map((dimValue, i) =>
      row({ project: '', dimName: 'user_id', dimValue, count: 1, sum: 100 + i, min: 100 + i, max: 100 + i, sketch: encodeValues([100 + i]) }),
    );
    const [pack] = packRows(rows);
    // Per entry before format 2: scope 2 B, value 10 B, flags 1, count 1, value 2, sketch 8 = 24 B.
    expect(pack!.packed.byteLength).toBeLessThan(50 * 10);
    expect(sorted(unpackAll(rows))).toEqual(sorted(rows));
  });

  it('keeps a sketch that does not follow from min = max, and surrogate pairs split across a shared prefix', () => {
    const rows = [
      row({ dimName: 'd', dimValue: 'a\u{1F600}x', project: '', count: 2, sum: 10, min: 5, max: 5, sketch: encodeValues([5, 5.4]) }),
      row({ dimName: 'd', dimValue: 'a\u{1F601}y', project: '', count: 2, sum: 10, min: 5, max: 5, sketch: encodeValues([5, 5]) }),
      row({ dimName: 'd', dimValue: 'a\u{1F601}z', project: '', count: 300, sum: 1500, min: 5, max: 5, sketch: encodeValues(new Array<number>(300).fill(5)) }),
    ];
    expect(sorted(unpackAll(rows))).toEqual(sorted(rows));
  });

  it('reads packs written in format 1 (before ADR 0008) as they were', () => {
    // Bytes written by the format-1 encoder of ADR 0006 (commit 3d8ea64): stored packs stay readable.
    const globalPack =
      '0104036170690002657503776562000100320400030908070002002a010d000000000000124000b007c585317a4203010001030302000402000000000000e83f000000000000d03f000000000000e03f080100020102010100';
    const userPack =
      '010100000008757365722d30303126011407010001e8010100000008757365722d30303226011607010001f0010100000008757365722d30313026011807010001fa01010000000dc3bc6ec3af636f646520e2988326011a0701000182020100';
    const read = (hex: string, dimName: string) => {
      const out: RollupRow[] = [];
      unpackRows('org', 'hour', { bucketStart: 1_800_000_000_000, metric: 'm', dimName }, Buffer.from(hex, 'hex'), {}, out);
      return out;
    };
    expect(read(globalPack, '')).toEqual([
      row({ project: 'api', tag: '', count: 4, sum: 0, min: 0, max: 0, hll: Uint8Array.from([9, 8, 7]) }),
      row({ project: 'api', tag: 'eu', count: 1, sum: -7, min: -7, max: -7, lastValue: 4.5, lastTs: 1_800_000_000_123 }),
      row({ project: 'web', tag: '', count: 3, sum: 3, min: 1, max: 1 }),
      row({ project: 'web', tag: 'eu', count: 2, sum: 0.75, min: 0.25, max: 0.5, sketch: Uint8Array.from([1, 0, 2, 1, 2, 1, 1, 0]) }),
    ]);
    expect(read(userPack, 'user_id')).toEqual(
      ['user-001', 'user-002', 'user-010', 'ünïcode ☃'].map((dimValue, i) =>
        row({ project: '', dimName: 'user_id', dimValue, count: 1, sum: 10 + i, min: 10 + i, max: 10 + i, sketch: encodeValues([10 + i]) }),
      ),
    );
  });

  describe('the all-scopes entry of a global pack (ADR 0013)', () => {
    const scopes = [
      row({ project: 'api', tag: '', count: 3, sum: 0.1, min: 0.02, max: 0.05, sketch: encodeValues([0.02, 0.03, 0.05]), hll: distinctOf(3) }),
      row({ project: 'api', tag: 'eu', count: 1, sum: 0.2, min: 0.2, max: 0.2, sketch: encodeValues([0.2]), hll: distinctOf(5) }),
      row({ project: 'web', tag: '', count: 2, sum: 7, min: 3, max: 4, sketch: encodeValues([3, 4]), hll: distinctOf(8) }),
    ];
    const read = (rows: readonly RollupRow[], filter: Parameters<typeof unpackRows>[4]) => {
      const out: RollupRow[] = [];
      for (const pack of packRows(rows)) unpackRows('org', 'hour', pack, pack.packed, filter, out);
      return out;
    };

    it('is what a read merging scopes gets: one row, the merge of every scope entry', () => {
      expect(read(scopes, { mergeScopes: true })).toEqual([{ ...row({ project: '', tag: '' }), ...pick(mergeAllPartials(scopes)) }]);
      expect(packRows(scopes)[0]!.valueCount).toBe(3);
    });

    it('is skipped by every other read, filtered or not', () => {
      expect(read(scopes, {})).toEqual(scopes);
      expect(read(scopes, { project: 'api' })).toEqual(scopes.slice(0, 2));
      expect(() => read(scopes, { project: 'api', mergeScopes: true })).toThrow(/mergeScopes/);
    });

    it('is absent from packs of one scope and from packs written before it, which merging reads get entry by entry', () => {
      expect(read(scopes.slice(0, 1), { mergeScopes: true })).toEqual(scopes.slice(0, 1));
      const before = encodePack(scopes);
      const out: RollupRow[] = [];
      unpackRows('org', 'hour', { bucketStart: 1_800_000_000_000, metric: 'm', dimName: '' }, before, { mergeScopes: true }, out);
      expect(out).toEqual(scopes);
    });

    it('is never written for dimension packs, whose entries already span every scope', () => {
      const values = ['a', 'b'].map((dimValue) => row({ project: '', dimName: 'model', dimValue }));
      expect(read(values, { mergeScopes: true })).toEqual(values);
    });

    it('refuses a global row without a project, which would collide with it', () => {
      expect(() => packRows([row({ project: '' }), row({ project: 'api' })])).toThrow(/without a project/);
    });
  });
});

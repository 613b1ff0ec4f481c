import { describe, expect, it } from 'vitest';
import { packRows, unpackRows } from '../../src/adapters/rollup-packs.ts';
import type { RollupRow } from '../../src/domain/rollup-types.ts';

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
          sketch: kind === 2 ? Uint8Array.from({ length: 1 + (i % 40) }, (_, j) => (i * j) % 256) : null,
          lastValue: kind === 3 ? values[i % values.length]! : null,
          lastTs: kind === 3 ? 1_800_000_000_000 + i : null,
          hll: kind === 4 ? Uint8Array.from({ length: 300 }, (_, j) => (i + j) % 256) : null,
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
});

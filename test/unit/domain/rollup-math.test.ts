import { describe, expect, it } from 'vitest';
import {
  emptyPartial,
  mergeAllPartials,
  mergePartials,
  PartialTable,
  partialOf,
  toStats,
} from '../../../src/domain/rollup-math.ts';
import { decodeSketch, encodeSketch, sketchFromValues } from '../../../src/domain/sketch.ts';
import type { RollupPartial } from '../../../src/domain/rollup-types.ts';
import type { MetricKind } from '../../../src/domain/metrics/definition.ts';
import { exactQuantile, expectWithinRelative, normal, seededRandom } from './random.ts';

const readings = (values: number[], firstTs = 1000) => values.map((value, i) => ({ value, ts: firstTs + i }));

describe('partials of readings', () => {
  it('counts a counter as count = sum = events', () => {
    const p = partialOf('counter', readings([1, 1, 1]));
    expect(p).toEqual({ count: 3, sum: 3, min: 1, max: 1, sketch: null, lastValue: null, lastTs: null, hll: null });
  });

  it('sums a sum metric without a sketch', () => {
    const p = partialOf('sum', readings([2.5, -1, 10]));
    expect(p).toMatchObject({ count: 3, sum: 11.5, min: -1, max: 10, sketch: null, lastValue: null });
  });

  it('sketches only distribution metrics', () => {
    const p = partialOf('distribution', readings([5, 1, 3]));
    expect(p.sketch).not.toBeNull();
    expect(decodeSketch(p.sketch as Uint8Array).count).toBe(3);
    expect(p.lastValue).toBeNull();
  });

  it('keeps the latest gauge reading, whatever the order it arrives in', () => {
    const p = partialOf('gauge', [
      { value: 7, ts: 300 },
      { value: 9, ts: 100 },
      { value: 4, ts: 200 },
    ]);
    expect(p).toMatchObject({ count: 3, sum: 20, min: 4, max: 9, lastValue: 7, lastTs: 300, sketch: null });
  });

  it('sketches past the buffer threshold exactly as sketching all values at once', () => {
    const random = seededRandom(5);
    const values = Array.from({ length: 1000 }, () => Math.exp(normal(random)));
    const p = partialOf('distribution', readings(values));
    expect(p.sketch).toEqual(encodeSketch(sketchFromValues(values)));
  });

  it('keeps many partials apart in one table, growing past its capacity', () => {
    const table = new PartialTable(2);
    const slots = Array.from({ length: 50 }, (_, i) => table.open(i % 2 === 0 ? 'sum' : 'gauge'));
    slots.forEach((slot, i) => {
      table.add(slot, i, 100 + i);
      table.add(slot, i * 2, 50);
    });
    expect(table.size).toBe(50);
    slots.forEach((slot, i) => {
      expect(table.partial(slot)).toEqual(partialOf(i % 2 === 0 ? 'sum' : 'gauge', [{ value: i, ts: 100 + i }, { value: i * 2, ts: 50 }]));
    });
    expect(table.partial(slots[7] as number)).toMatchObject({ count: 2, sum: 21, min: 7, max: 14, lastValue: 7, lastTs: 107 });
  });

  it('builds an empty partial that is the identity of merge', () => {
    for (const kind of ['counter', 'sum', 'distribution', 'gauge'] as MetricKind[]) {
      const built = partialOf(kind, []);
      expect(built.count).toBe(0);
      const some = partialOf(kind, readings([3, 4]));
      expect(toStats(mergePartials(built, some))).toEqual(toStats(some));
      expect(toStats(mergePartials(some, emptyPartial()))).toEqual(toStats(some));
    }
  });
});

describe('mergePartials', () => {
  function randomSplit(values: number[], random: () => number): number[][] {
    const parts: number[][] = [[]];
    for (const v of values) {
      if (random() < 0.05) parts.push([]);
      (parts[parts.length - 1] as number[]).push(v);
    }
    return parts;
  }

  it.each(['counter', 'sum', 'distribution', 'gauge'] as MetricKind[])(
    '%s: merging any split of the readings gives the partial of all readings',
    (kind) => {
      const random = seededRandom(kind.length * 97);
      const values = Array.from({ length: 600 }, () => (kind === 'counter' ? 1 : Math.round(1000 * normal(random)) / 10));
      const all = partialOf(kind, readings(values));
      const parts = randomSplit(values, random);
      let offset = 0;
      const partials = parts.map((p) => {
        const partial = partialOf(kind, readings(p, 1000 + offset));
        offset += p.length;
        return partial;
      });
      const leftFold = partials.reduce((acc, p) => mergePartials(acc, p), emptyPartial());
      const rightFold = partials.reduceRight((acc, p) => mergePartials(p, acc), emptyPartial());
      const shuffled = [...partials].sort(() => random() - 0.5);
      for (const merged of [leftFold, rightFold, mergeAllPartials(shuffled)]) {
        expect(merged.count).toBe(all.count);
        expect(merged.sum).toBeCloseTo(all.sum, 6);
        expect(merged.min).toBe(all.min);
        expect(merged.max).toBe(all.max);
        expect(merged.sketch).toEqual(all.sketch);
        expect(merged.lastValue).toBe(all.lastValue);
        expect(merged.lastTs).toBe(all.lastTs);
      }
    },
  );

  it('breaks gauge timestamp ties by the larger value, so order never matters', () => {
    const a = partialOf('gauge', [{ value: 1, ts: 50 }]);
    const b = partialOf('gauge', [{ value: 2, ts: 50 }]);
    expect(mergePartials(a, b).lastValue).toBe(2);
    expect(mergePartials(b, a).lastValue).toBe(2);
  });

  it('does not mutate its inputs', () => {
    const a = partialOf('distribution', readings([1, 2]));
    const b = partialOf('distribution', readings([3]));
    const copyA = { ...a, sketch: a.sketch?.slice() ?? null };
    mergePartials(a, b);
    expect(a).toEqual(copyA);
  });
});

describe('toStats', () => {
  it('averages as total sum over total count, never as an average of averages', () => {
    const small = partialOf('distribution', readings([100]));
    const large = partialOf('distribution', readings([1, 1, 1, 1, 1, 1, 1, 1, 1]));
    const stats = toStats(mergePartials(small, large));
    expect(stats.avg).toBeCloseTo(109 / 10, 12);
    expect(stats.avg).not.toBeCloseTo((100 + 1) / 2, 3);
    expect(stats).toMatchObject({ count: 10, sum: 109, min: 1, max: 100 });
  });

  it('gives p50/p95/p99 from merged sketches within 1% of the exact quantiles', () => {
    const random = seededRandom(99);
    const hours = Array.from({ length: 24 }, (_, h) => Array.from({ length: 50 + h * 10 }, () => Math.exp(3 + normal(random))));
    const merged = mergeAllPartials(hours.map((values) => partialOf('distribution', readings(values))));
    const sorted = hours.flat().sort((a, b) => a - b);
    const stats = toStats(merged);
    expectWithinRelative(stats.p50, exactQuantile(sorted, 0.5), 0.01);
    expectWithinRelative(stats.p95, exactQuantile(sorted, 0.95), 0.01);
    expectWithinRelative(stats.p99, exactQuantile(sorted, 0.99), 0.01);
  });

  it('clamps quantiles into [min, max], so one value reads back exactly', () => {
    const stats = toStats(partialOf('distribution', readings([123.456])));
    expect(stats).toMatchObject({ p50: 123.456, p95: 123.456, p99: 123.456, min: 123.456, max: 123.456 });
  });

  it('has no quantiles for counters and sums, and a last value for gauges only', () => {
    expect(toStats(partialOf('sum', readings([1, 2])))).toMatchObject({ p50: null, p95: null, p99: null, last: null, avg: 1.5 });
    expect(toStats(partialOf('gauge', readings([1, 2])))).toMatchObject({ last: 2, p50: null });
  });

  it('reports nulls rather than zeros for an empty partial', () => {
    const empty: RollupPartial = emptyPartial();
    expect(toStats(empty)).toEqual({ count: 0, sum: 0, min: null, max: null, avg: null, p50: null, p95: null, p99: null, last: null, distinct: null });
  });
});

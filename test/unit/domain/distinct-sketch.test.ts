import { describe, expect, it } from 'vitest';
import { DistinctSketch, distinctCount, distinctHash, isEmptyDistinct, mergeDistinct, SPARSE_LIMIT, sparseAdded } from '../../../src/domain/distinct-sketch.ts';
import { seededRandom } from './random.ts';

const sketchOf = (values: Iterable<string | number>): Uint8Array => {
  const sketch = new DistinctSketch();
  for (const value of values) sketch.add(distinctHash(value)!);
  return sketch.encode();
};
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `user-${from + i}`);

describe('distinct sketch', () => {
  it('ignores absent, null and empty values and counts 42 and "42" once', () => {
    expect(distinctHash(null)).toBeUndefined();
    expect(distinctHash(undefined)).toBeUndefined();
    expect(distinctHash('')).toBeUndefined();
    expect(distinctHash(42)).toBe(distinctHash('42'));
    expect(distinctHash('a')).not.toBe(distinctHash('b'));
    expect(Number.isSafeInteger(distinctHash('some user')!)).toBe(true);
  });

  it('is exact and small while sparse', () => {
    expect(distinctCount(sketchOf(['a', 'b', 'a', 'c']))).toBe(3);
    expect(sketchOf(range(0, 5)).length).toBeLessThan(50);
    expect(distinctCount(sketchOf(range(0, SPARSE_LIMIT)))).toBe(SPARSE_LIMIT);
  });

  it.each([3_000, 20_000, 150_000])('estimates %i distinct values within 2 %%', (n) => {
    const random = seededRandom(n);
    // Every value twice, in random order: duplicates must not count.
    const values = [...range(0, n), ...range(0, n)].sort(() => random() - 0.5);
    const estimate = distinctCount(sketchOf(values));
    expect(Math.abs(estimate - n) / n).toBeLessThan(0.02);
  });

  it('merges as a set union: associative, commutative, idempotent, whatever the forms', () => {
    const a = sketchOf(range(0, 1500));
    const b = sketchOf(range(1000, 2600));
    const c = sketchOf(range(2500, 9000));
    const abc = mergeDistinct([a, b, c]);
    expect(mergeDistinct([c, mergeDistinct([b, a])])).toEqual(abc);
    expect(mergeDistinct([mergeDistinct([a, b]), c, a])).toEqual(abc);
    expect(mergeDistinct([abc])).toEqual(abc);
    expect(abc).toEqual(sketchOf(range(0, 9000)));
    expect(distinctCount(mergeDistinct([a, sketchOf(range(1000, 2000))]))).toBe(2000);
    expect(Math.abs(distinctCount(mergeDistinct([a, b])) - 2600) / 2600).toBeLessThan(0.02);
  });

  it('merges many overlapping sparse sketches to the bytes of one sketch of every value', () => {
    const random = seededRandom(7);
    const parts = Array.from({ length: 40 }, () => {
      const from = Math.floor(random() * 1500);
      return range(from, from + Math.floor(random() * 60));
    });
    const union = [...new Set(parts.flat())];
    expect(union.length).toBeLessThan(SPARSE_LIMIT);
    const merged = mergeDistinct(parts.map(sketchOf));
    expect(merged).toEqual(sketchOf(union));
    expect(distinctCount(merged)).toBe(union.length);
    // Sparse inputs whose union passes the limit fold into the same registers as the values themselves.
    const wide = [sketchOf(range(0, 1200)), sketchOf(range(1100, 2300)), sketchOf(range(2200, 2400))];
    expect(mergeDistinct(wide)).toEqual(sketchOf(range(0, 2400)));
  });

  it('rejects bytes that are not a sketch', () => {
    expect(() => distinctCount(Uint8Array.of(9, 1, 2))).toThrow(/not an encoded distinct sketch/);
    expect(() => distinctCount(Uint8Array.of(1, 5, 0x80))).toThrow(/truncated/);
  });

  it('sparseAdded: merging only what `after` adds to `before` into a union holding `before` gives the union with all of `after` (ADR 0015)', () => {
    const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [
      // [union holding before, before, after]
      [sketchOf(range(0, 300)), sketchOf(range(10, 20)), sketchOf(range(15, 40))],
      [sketchOf(range(0, 300)), sketchOf(range(10, 20)), sketchOf(range(12, 18))],
      [sketchOf(range(0, 2040)), sketchOf(range(2030, 2035)), sketchOf(range(2032, 2060))], // the union turns dense
      [sketchOf(range(0, 9000)), sketchOf(range(0, 5)), sketchOf(range(3, 30))], // already dense
    ];
    for (const [union, before, after] of cases) {
      const added = sparseAdded(before, after)!;
      expect(distinctCount(added)).toBe(distinctCount(mergeDistinct([before, after])) - distinctCount(before));
      const expected = mergeDistinct([union, after]);
      expect(isEmptyDistinct(added) ? union : mergeDistinct([union, added])).toEqual(expected);
    }
    expect(isEmptyDistinct(sparseAdded(sketchOf(range(0, 10)), sketchOf(range(2, 8)))!)).toBe(true);
    expect(sparseAdded(sketchOf(range(0, 9000)), sketchOf(range(0, 3)))).toBeNull();
  });

  it('merges two sparse sketches to the bytes of the general union, up to and past the sparse limit', () => {
    const empty = new DistinctSketch().encode();
    const pairs: Array<[Uint8Array, Uint8Array]> = [
      [sketchOf(range(0, 10)), sketchOf(range(5, 30))],
      [sketchOf(range(0, 1000)), sketchOf(range(0, 1000))],
      [sketchOf([]), sketchOf(range(0, 3))],
      [sketchOf(range(0, 1500)), sketchOf(range(1000, 2048))], // exactly the limit
      [sketchOf(range(0, 1500)), sketchOf(range(1000, 2600))], // past it: dense
    ];
    for (const [a, b] of pairs) {
      // Three inputs take the general path (one sorted array of every hash).
      expect(mergeDistinct([a, b])).toEqual(mergeDistinct([a, b, empty]));
      expect(mergeDistinct([b, a])).toEqual(mergeDistinct([a, b, empty]));
    }
  });
});

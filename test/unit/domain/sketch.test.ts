import { describe, expect, it } from 'vitest';
import {
  decodeSketch,
  emptySketch,
  encodeSketch,
  encodeValues,
  mergeManySketches,
  mergeSketches,
  quantile,
  sketchFromValues,
  type Sketch,
} from '../../../src/domain/sketch.ts';
import { applySketchDelta, replaceEncodedBins, sketchDelta } from '../../../src/domain/sketch-delta.ts';
import { encodedQuantiles, mergeEncodedSketches } from '../../../src/domain/sketch-merge.ts';
import { exactQuantile, expectWithinRelative, normal, seededRandom } from './random.ts';

const QUANTILES = [0.5, 0.95, 0.99] as const;

function datasets(): Array<[string, number[]]> {
  const random = seededRandom(42);
  const n = 20_000;
  const uniform = Array.from({ length: n }, () => random() * 1000);
  const lognormal = Array.from({ length: n }, () => Math.exp(3 + 1.5 * normal(random)));
  const withZeros = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : Math.exp(normal(random))));
  const mixedSign = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : 100 * normal(random)));
  const mostlyNegative = Array.from({ length: n }, () => -Math.exp(2 + normal(random)));
  const integers = Array.from({ length: 1000 }, () => Math.floor(random() * 20));
  return [
    ['uniform', uniform],
    ['lognormal', lognormal],
    ['with zeros', withZeros],
    ['mixed sign', mixedSign],
    ['mostly negative', mostlyNegative],
    ['small integers', integers],
  ];
}

function quantilesOf(sketch: Sketch): Array<number | null> {
  return Array.from({ length: 101 }, (_, i) => quantile(sketch, i / 100));
}

describe('accuracy', () => {
  it.each(datasets())('p50/p95/p99 of %s data are within 1%% of the exact rank quantile', (_name, values) => {
    const sketch = sketchFromValues(values);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of QUANTILES) expectWithinRelative(quantile(sketch, q), exactQuantile(sorted, q), 0.01);
  });

  it.each(datasets())('keeps 1%% accuracy after an encode/decode round trip and merges of %s data', (_name, values) => {
    const parts = [values.slice(0, 10), values.slice(10, 5000), values.slice(5000)];
    const merged = mergeManySketches(parts.map((p) => decodeSketch(encodeSketch(sketchFromValues(p)))));
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of QUANTILES) expectWithinRelative(quantile(merged, q), exactQuantile(sorted, q), 0.01);
    expect(merged.count).toBe(values.length);
  });

  it('answers null for an empty sketch or a quantile outside [0, 1]', () => {
    expect(quantile(emptySketch(), 0.5)).toBeNull();
    expect(quantile(sketchFromValues([1, 2]), 1.5)).toBeNull();
    expect(quantile(sketchFromValues([1, 2]), -0.1)).toBeNull();
  });

  it('ignores non-finite values', () => {
    const sketch = sketchFromValues([1, Number.NaN, Number.POSITIVE_INFINITY, 2]);
    expect(sketch.count).toBe(2);
  });
});

describe('compact encoding', () => {
  it.each(datasets())('round-trips %s data with identical quantiles and bytes', (_name, values) => {
    const sketch = sketchFromValues(values);
    const bytes = encodeSketch(sketch);
    const decoded = decodeSketch(bytes);
    expect(decoded.count).toBe(sketch.count);
    expect(decoded.zeroCount).toBe(sketch.zeroCount);
    expect(quantilesOf(decoded)).toEqual(quantilesOf(sketch));
    expect(encodeSketch(decoded)).toEqual(bytes);
  });

  it.each(datasets())('encodes %s values directly to the same bytes as via a dense sketch', (_name, values) => {
    const withNonFinite = [...values.slice(0, 300), Number.NaN, Number.NEGATIVE_INFINITY];
    expect(encodeValues(withNonFinite)).toEqual(encodeSketch(sketchFromValues(withNonFinite)));
    expect(encodeValues(values)).toEqual(encodeSketch(sketchFromValues(values)));
  });

  it('stores only non-empty bins: a few bytes for small sketches', () => {
    expect(encodeSketch(emptySketch()).length).toBe(4);
    expect(encodeSketch(sketchFromValues([120])).length).toBeLessThanOrEqual(10);
    expect(encodeSketch(sketchFromValues([0])).length).toBe(4);
    expect(encodeSketch(sketchFromValues([-3.5])).length).toBeLessThanOrEqual(10);
    // Ten latencies of an hourly bucket: one varint gap and one count per bin.
    expect(encodeSketch(sketchFromValues([12, 15, 18, 22, 30, 41, 55, 90, 150, 800])).length).toBeLessThanOrEqual(40);
  });

  it('stays far below the library dense form for large sketches', () => {
    const random = seededRandom(3);
    const sketch = sketchFromValues(Array.from({ length: 100_000 }, () => Math.exp(4 + normal(random))));
    const bytes = encodeSketch(sketch);
    const denseBins = sketch.store.bins.length;
    // Dense protobuf writes at least one byte per dense bin plus the mapping; ours writes ≈2–4 per non-empty bin.
    expect(bytes.length).toBeLessThan(4 * denseBins);
    expect(bytes.length).toBeLessThan(2000);
  });

  it('keeps fractional counts exactly (float64 mode)', () => {
    const sketch = emptySketch();
    sketch.accept(10, 0.5);
    sketch.accept(20, 2.25);
    sketch.accept(0, 0.125);
    sketch.accept(-4, 1);
    const bytes = encodeSketch(sketch);
    expect((bytes[0] as number) & 0x80).toBe(0x80);
    const decoded = decodeSketch(bytes);
    expect(decoded.count).toBe(sketch.count);
    expect(decoded.zeroCount).toBe(0.125);
    expect(quantilesOf(decoded)).toEqual(quantilesOf(sketch));
  });

  it('writes large integer counts as varints beyond 2^31', () => {
    const sketch = emptySketch();
    sketch.accept(7, 2 ** 40);
    const decoded = decodeSketch(encodeSketch(sketch));
    expect(decoded.count).toBe(2 ** 40);
    expect(quantile(decoded, 0.5)).toBe(quantile(sketch, 0.5));
  });

  it('rejects corrupt or foreign bytes', () => {
    const good = encodeSketch(sketchFromValues([1, 2, 3]));
    expect(() => decodeSketch(new Uint8Array([]))).toThrow(/corrupt/);
    expect(() => decodeSketch(new Uint8Array([9, 0, 0, 0]))).toThrow(/version/);
    expect(() => decodeSketch(good.subarray(0, good.length - 1))).toThrow(/corrupt/);
    expect(() => decodeSketch(new Uint8Array([...good, 0]))).toThrow(/corrupt/);
  });

  it('decodes from a view into a larger buffer', () => {
    const good = encodeSketch(sketchFromValues([1.5, -2, 3e6]));
    const padded = new Uint8Array(good.length + 10);
    padded.set(good, 5);
    expect(quantilesOf(decodeSketch(padded.subarray(5, 5 + good.length)))).toEqual(quantilesOf(decodeSketch(good)));
  });
});

describe('merge', () => {
  const random = seededRandom(11);
  const a = Array.from({ length: 500 }, () => 50 * normal(random));
  const b = Array.from({ length: 50 }, () => Math.exp(5 * random()));
  const c = [0, 0, -1e-3, 1e9, -7];

  it('is associative and commutative, byte for byte', () => {
    const [sa, sb, sc] = [a, b, c].map(sketchFromValues) as [Sketch, Sketch, Sketch];
    const left = encodeSketch(mergeSketches(mergeSketches(sa, sb), sc));
    const right = encodeSketch(mergeSketches(sa, mergeSketches(sb, sc)));
    const swapped = encodeSketch(mergeSketches(sc, mergeSketches(sb, sa)));
    expect(right).toEqual(left);
    expect(swapped).toEqual(left);
  });

  it('equals the sketch of all values, negatives included (the library merge drops them)', () => {
    const merged = mergeManySketches([a, b, c].map(sketchFromValues));
    expect(encodeSketch(merged)).toEqual(encodeSketch(sketchFromValues([...a, ...b, ...c])));
    expect(merged.negativeStore.count).toBe([...a, ...b, ...c].filter((v) => v < 0).length);
  });

  it('merges compact encodings directly to the bytes of the dense merge', () => {
    const encodings = [a, b, c, [], [0]].map((values) => encodeSketch(sketchFromValues(values)));
    const dense = encodeSketch(mergeManySketches(encodings.map(decodeSketch)));
    expect(mergeEncodedSketches(encodings)).toEqual(dense);
    expect(mergeEncodedSketches([])).toEqual(encodeSketch(emptySketch()));
  });

  it('merges fractional counts in compact form', () => {
    const x = emptySketch();
    x.accept(3, 0.5);
    const y = sketchFromValues([3, -3]);
    const merged = decodeSketch(mergeEncodedSketches([encodeSketch(x), encodeSketch(y)]));
    expect(merged.count).toBe(2.5);
    expect(merged.store.count).toBe(1.5);
    expect(() => mergeEncodedSketches([new Uint8Array([1, 0])])).toThrow(/corrupt/);
  });

  it('leaves its inputs unchanged', () => {
    const sa = sketchFromValues(a);
    const before = encodeSketch(sa);
    mergeSketches(sa, sketchFromValues(b));
    expect(encodeSketch(sa)).toEqual(before);
  });

  it('merges sketches whose key ranges are far apart', () => {
    const tiny = sketchFromValues([1e-9, 2e-9]);
    const huge = sketchFromValues([1e12, 1]);
    const merged = mergeSketches(tiny, huge);
    expect(merged.count).toBe(4);
    expectWithinRelative(quantile(merged, 0), 1e-9, 0.01);
    expectWithinRelative(quantile(merged, 1), 1e12, 0.01);
    expectWithinRelative(quantile(merged, 0.67), 1, 0.01);
  });
});

describe('replaceEncodedBins (a finer bucket\'s contribution replaced inside a coarser one)', () => {
  const random = seededRandom(9);
  const values = (n: number) => Array.from({ length: n }, () => (random() < 0.1 ? 0 : random() < 0.2 ? -normal(random) * 50 : Math.exp(normal(random) * 2)));

  it('gives the bytes of the sketch of the remaining values plus the new ones', () => {
    for (let round = 0; round < 50; round++) {
      const others = values(1 + Math.floor(random() * 200));
      const before = values(Math.floor(random() * 30));
      const after = [...before.slice(0, Math.floor(before.length / 2)), ...values(Math.floor(random() * 40))];
      const stored = encodeValues([...others, ...before]);
      const replaced = replaceEncodedBins(stored, before.length ? [encodeValues(before)] : [], after.length ? [encodeValues(after)] : []);
      expect(replaced).toEqual(encodeValues([...others, ...after]));
    }
  });

  it('takes several finer buckets out and in at once, whatever their order', () => {
    const others = values(100);
    const [b1, b2, a1, a2] = [values(10), values(12), values(9), values(15)];
    const stored = encodeValues([...b1, ...others, ...b2]);
    const replaced = replaceEncodedBins(stored, [encodeValues(b2), encodeValues(b1)], [encodeValues(a1), encodeValues(a2)]);
    expect(replaced).toEqual(encodeValues([...others, ...a1, ...a2]));
  });

  it('keeps a bin that one finer bucket leaves and another enters', () => {
    // 5 is in no stored bin; taking it out alone would go negative, together with adding it back it nets to zero.
    const stored = encodeValues([1, 2, 3]);
    expect(replaceEncodedBins(stored, [encodeValues([5])], [encodeValues([5])])).toEqual(stored);
  });

  it('is null when a removed value was never in the base (the caller re-merges)', () => {
    expect(replaceEncodedBins(encodeValues([1, 2, 3]), [encodeValues([1000])], [])).toBeNull();
    expect(replaceEncodedBins(encodeValues([1, 2, 3]), [encodeValues([0])], [])).toBeNull();
    expect(replaceEncodedBins(encodeValues([-4, 2]), [encodeValues([-4, -4])], [])).toBeNull();
  });
});

describe('sketchDelta + applySketchDelta (one contribution applied to day, week and month, ADR 0015)', () => {
  const random = seededRandom(31);
  const values = (n: number) => Array.from({ length: n }, () => (random() < 0.1 ? 0 : random() < 0.2 ? -normal(random) * 50 : Math.exp(normal(random) * 2)));

  it('gives replaceEncodedBins\'s bytes for every base the same contribution is applied to, and null where it is null', () => {
    for (let round = 0; round < 50; round++) {
      const before = values(Math.floor(random() * 30));
      const after = [...before.slice(0, Math.floor(before.length / 2)), ...values(Math.floor(random() * 40))];
      const minus = before.length ? encodeValues(before) : null;
      const plus = after.length ? encodeValues(after) : null;
      const delta = sketchDelta(minus, plus)!;
      // Three tiers holding `before` among different others, and one that never held it.
      const bases = [values(50), values(5), values(300)].map((others) => encodeValues([...others, ...before]));
      bases.push(encodeValues(values(3)));
      for (const base of bases) {
        expect(applySketchDelta(base, delta)).toEqual(replaceEncodedBins(base, minus ? [minus] : [], plus ? [plus] : []));
      }
    }
  });
});

describe('read side straight from the compact encoding', () => {
  const random = seededRandom(23);
  const spread = (n: number) => Array.from({ length: n }, () => (random() < 0.1 ? 0 : (random() < 0.3 ? -1 : 1) * Math.exp(12 * random() - 4)));

  it('merges many sketches with shifting key ranges to the bytes of the library merge', () => {
    // Ranges that drift and widen to both sides as sketches arrive, so the dense bins move and grow.
    const encodings = Array.from({ length: 60 }, (_, i) =>
      encodeSketch(sketchFromValues([...spread(1 + (i % 7) * 13).map((v) => v * Math.exp(i % 2 === 0 ? i / 3 : -i / 3)), 0.5 + i])),
    );
    const dense = encodeSketch(mergeManySketches(encodings.map(decodeSketch)));
    expect(mergeEncodedSketches(encodings)).toEqual(dense);
    expect(mergeEncodedSketches([...encodings].reverse())).toEqual(dense);
  });

  it('merges key ranges too far apart for dense bins (1e-300 with 1e300) like the library', () => {
    const encodings = [[1e-300, 2], [1e300, -1e300, 5], [0, 3]].map((values) => encodeSketch(sketchFromValues(values)));
    expect(mergeEncodedSketches(encodings)).toEqual(encodeSketch(mergeManySketches(encodings.map(decodeSketch))));
  });

  it('reads quantiles equal to the decoded sketch, for every data set and fractional counts', () => {
    const fractional = emptySketch();
    fractional.accept(3, 0.5);
    fractional.accept(-2, 0.25);
    fractional.accept(0, 0.125);
    fractional.accept(40, 1.75);
    const encodings = [
      ...datasets().map(([, values]) => encodeSketch(sketchFromValues(values))),
      encodeSketch(fractional),
      encodeSketch(sketchFromValues([7])),
      encodeSketch(sketchFromValues([-7, 0])),
    ];
    const qs = [0, 0.01, 0.25, 0.5, 0.95, 0.99, 1];
    for (const bytes of encodings) {
      const decoded = decodeSketch(bytes);
      expect(encodedQuantiles(bytes, qs)).toEqual(qs.map((q) => quantile(decoded, q)));
    }
  });

  it('answers null for an empty sketch or a quantile outside [0, 1]', () => {
    expect(encodedQuantiles(encodeSketch(emptySketch()), [0.5])).toEqual([null]);
    expect(encodedQuantiles(encodeSketch(sketchFromValues([1, 2])), [-0.1, 1.1, Number.NaN])).toEqual([null, null, null]);
  });
});

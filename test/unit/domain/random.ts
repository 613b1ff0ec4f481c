/** Seeded PRNG (mulberry32) so property tests are reproducible: a failure names its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate (Box–Muller). */
export function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Exact rank quantile as DDSketch defines it: the value at rank floor(q·(n−1)) of the sorted values. */
export function exactQuantile(sorted: readonly number[], q: number): number {
  const value = sorted[Math.floor(q * (sorted.length - 1))];
  if (value === undefined) throw new Error('quantile of no values');
  return value;
}

export function expectWithinRelative(actual: number | null, expected: number, relative: number): void {
  if (actual === null) throw new Error(`expected ≈${expected}, got null`);
  const tolerance = Math.abs(expected) * relative + 1e-12;
  if (Math.abs(actual - expected) > tolerance) {
    throw new Error(`expected ${actual} within ${relative * 100}% of ${expected}`);
  }
}

import { describe, expect, it } from 'vitest';
import { BETWEEN_PASSES_PERCENT, createHeapGrowthLimit, HEAP_GROWING_PERCENT, heapGrowthSetByUser } from '../../src/adapters/runtime/heap-growth.ts';

/** ADR 0021: the heap growth limit of ADR 0012 holds while a pass runs, and only then. */
describe('heap growth limit during passes', () => {
  const recorder = () => {
    const flags: string[] = [];
    return { flags, set: (value: string) => void flags.push(value) };
  };

  it('is set when the first pass starts and lifted when the last of overlapping passes ends', async () => {
    const { flags, set } = recorder();
    const limit = createHeapGrowthLimit(set, false);
    const between = `--heap-growing-percent=${BETWEEN_PASSES_PERCENT}`;
    const during = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
    expect(flags).toEqual([between]);
    let releaseFirst!: () => void;
    const first = limit.during(() => new Promise<string>((resolve) => (releaseFirst = () => resolve('first'))));
    expect(flags).toEqual([between, during]);
    expect(await limit.during(async () => 'second')).toBe('second');
    // The first pass still runs: the limit stays.
    expect(flags).toHaveLength(2);
    releaseFirst();
    expect(await first).toBe('first');
    expect(flags).toEqual([between, during, between]);
    expect(BETWEEN_PASSES_PERCENT).toBeGreaterThan(HEAP_GROWING_PERCENT);
  });

  it('is lifted after a pass that fails, and the failure reaches the caller', async () => {
    const { flags, set } = recorder();
    const limit = createHeapGrowthLimit(set, false);
    await expect(limit.during(() => Promise.reject(new Error('pass failed')))).rejects.toThrow('pass failed');
    expect(flags.at(-1)).toBe(`--heap-growing-percent=${BETWEEN_PASSES_PERCENT}`);
    await limit.during(async () => undefined);
    expect(flags).toHaveLength(5);
  });

  it('leaves a --heap-growing-percent given to node alone', async () => {
    expect(heapGrowthSetByUser([], '')).toBe(false);
    expect(heapGrowthSetByUser(['--heap-growing-percent=80'], '')).toBe(true);
    expect(heapGrowthSetByUser([], '--max-old-space-size=512 --heap-growing-percent=80')).toBe(true);
    const { flags, set } = recorder();
    expect(await createHeapGrowthLimit(set, true).during(async () => 7)).toBe(7);
    expect(flags).toEqual([]);
  });
});

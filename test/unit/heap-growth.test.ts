import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from '../../src/cli/heap-growth.ts';

/** ADR 0012: service processes cap V8's old-generation growth unless node was told otherwise. */
describe('heap growth limit', () => {
  it('is applied by default and leaves an explicit --heap-growing-percent alone', () => {
    expect(HEAP_GROWING_PERCENT).toBeGreaterThan(0);
    expect(limitHeapGrowth([], '')).toBe(true);
    expect(limitHeapGrowth(['--heap-growing-percent=80'], '')).toBe(false);
    expect(limitHeapGrowth([], '--max-old-space-size=512 --heap-growing-percent=80')).toBe(false);
  });

  it('is applied by the entry point every service process starts from', async () => {
    const { readFile } = await import('node:fs/promises');
    const main = await readFile(new URL('../../src/main.ts', import.meta.url), 'utf8');
    expect(main).toMatch(/limitHeapGrowth\(\)/);
  });
});

import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what its last full collection kept, in percent
 * (ADR 0012). V8's default on a machine with a large heap limit is up to 4× the live size: an
 * aggregation pass keeps ~45 MB live but promotes ~0.5 GB of rows that die soon after (hour rows
 * held until their day is merged and written, packs until their transaction ends), so a 1M-event
 * full pass peaked at 410–440 MB of RSS with a heap of ~200 MB, ~150 MB of it garbage. 1.3×
 * keeps that pass near 300 MB (50 % measured 295–313 MB) for ~10–15 % more wall time of the pass
 * (side by side, docs/PERFORMANCE.md §2): the price of more frequent full collections.
 */
export const HEAP_GROWING_PERCENT = 30;

/**
 * Applies it to this process. V8 reads the flag at every full collection, so setting it at start
 * (before any sizeable allocation) is enough; an explicit `--heap-growing-percent` or
 * `NODE_OPTIONS` given to node is left as it is.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): boolean {
  if (execArgv.some((arg) => arg.startsWith('--heap-growing-percent')) || nodeOptions.includes('--heap-growing-percent')) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}

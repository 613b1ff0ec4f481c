import { setFlagsFromString } from 'node:v8';
import { enginePassMemory, type PassMemory } from '../../ports/pass-memory.ts';

/**
 * How far V8 lets the old generation grow past what its last full collection kept, in percent,
 * while a pass runs (ADR 0012, ADR 0021). V8's default on a machine with a large heap limit is up
 * to 4× the live size: an aggregation pass keeps ~45 MB live but promotes ~0.5 GB of rows that
 * die soon after, so a 1M-event full pass peaked at 410–440 MB of RSS. 1.3× kept it near 300 MB
 * when measured under tsx; the compiled process sits ~65 MB lower, and 1.6× then costs ~15 MB
 * more than 1.3× for ~8 % less wall time of the pass (ADR 0030).
 */
export const HEAP_GROWING_PERCENT = 60;
/**
 * Between passes: 2× the live size. V8's own heuristics (up to 4×) cost the server's memory
 * goal (query mix peak 294–318 MB against 204–216 MB with 1.3×), and 1.3× cost queries a full
 * collection every ~100 cached hits of the 92 KiB series; 2× measured one in 1,000 (ADR 0021).
 */
export const BETWEEN_PASSES_PERCENT = 100;

/** True when node was started with its own `--heap-growing-percent`, which is then left alone. */
export function heapGrowthSetByUser(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): boolean {
  return execArgv.some((arg) => arg.startsWith('--heap-growing-percent')) || nodeOptions.includes('--heap-growing-percent');
}

/**
 * The pass memory policy of a service process: the between-passes growth from its creation, the
 * pass limit from when the first of possibly overlapping passes starts until the last one ends.
 * V8 reads the flag at every full collection, so changing it between collections takes effect at
 * the next one. The flag is process-wide (aggregation threads, ADR 0016, run under it too), so
 * the overlap is counted per policy: compose.ts builds one context, hence one policy, per process.
 */
export function createHeapGrowthLimit(setFlags: (flags: string) => void = setFlagsFromString, setByUser = heapGrowthSetByUser()): PassMemory {
  if (setByUser) return enginePassMemory;
  setFlags(`--heap-growing-percent=${BETWEEN_PASSES_PERCENT}`);
  let running = 0;
  return {
    async during(work) {
      if (running++ === 0) setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
      try {
        return await work();
      } finally {
        if (--running === 0) setFlags(`--heap-growing-percent=${BETWEEN_PASSES_PERCENT}`);
      }
    },
  };
}

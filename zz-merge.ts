import { mergeIntoBuckets } from './src/app/recompute-buckets.ts';
import { createBenchContext, noCache, openStorage } from './bench/support.ts';
const storage = openStorage({ engine: 'sqlite', dataDir: '/tmp/aggprobe/w' });
let t = performance.now();
const rows = await storage.readRollups({ orgId: 'acme', granularity: 'day', from: 0, to: Number.MAX_SAFE_INTEGER });
console.log('read', rows.length, Math.round(performance.now() - t));
for (let i = 0; i < 3; i++) {
  t = performance.now();
  const m = mergeIntoBuckets(rows, 'month', () => 0);
  console.log('merge', m.length, Math.round(performance.now() - t));
}
const noSketch = rows.map(r => ({...r, sketch: null}));
t = performance.now();
mergeIntoBuckets(noSketch, 'month', () => 0);
console.log('merge no sketch', Math.round(performance.now() - t));
await storage.close();

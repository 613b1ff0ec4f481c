import { aggregateDirtyBuckets } from './src/app/aggregate.ts';
import { generateDemoBatches } from './src/app/demo-events.ts';
import { ingestEvents } from './src/app/ingest-events.ts';
import { createBenchContext, noCache, openStorage } from './bench/support.ts';
const dir = process.argv[2]!;
const storage = openStorage({ engine: 'sqlite', dataDir: dir });
const ctx = createBenchContext(storage, noCache);
const orgs = [["acme","UTC"],["globex","America/New_York"],["initech","Asia/Kolkata"]];
for (let round = 0; round < Number(process.argv[3] ?? 1); round++) {
  const endMs = Date.now();
  for (const [id, tz] of orgs) {
    const options = { orgId: id, days: 1 / 96, eventsPerDay: 3334 * 96, endMs, timezone: tz, seed: 177 + round };
    for (const events of generateDemoBatches(options, 5_000)) await ingestEvents(ctx, { orgId: id!, events });
  }
  (globalThis as any).__t = { coarse: 0 };
  const t = performance.now(); const c = process.cpuUsage();
  const r = await aggregateDirtyBuckets(ctx);
  const u = process.cpuUsage(c);
  console.log('steady pass', Math.round(performance.now() - t), 'ms wall; cpu', Math.round(u.user / 1000), 'coarse', Math.round((globalThis as any).__t.coarse), JSON.stringify(r));
}
await storage.close();

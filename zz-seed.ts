import { seedDemo } from './src/app/seed-demo.ts';
import { createBenchContext, noCache, openStorage } from './bench/support.ts';
const dir = process.argv[2]!; const n = Number(process.argv[3] ?? 100000);
const storage = openStorage({ engine: 'sqlite', dataDir: dir });
await storage.migrate();
const ctx = createBenchContext(storage, noCache);
const r = await seedDemo(ctx, { days: 30, orgs: 3, eventsPerDay: Math.ceil(n / 90), aggregate: false });
console.log(r.accepted, JSON.stringify(r.orgs.map(o => [o.id, o.timezone])));
await storage.close();

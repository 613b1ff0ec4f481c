import { aggregateDirtyBuckets } from '/work/main/src/app/aggregate.ts';
import { makeOrg } from '/work/main/test/factories/org.ts';
import { arrivalChunks, generateEvents } from '/work/main/test/aggregation/generate.ts';
import { createAggregationContext, ingestAll, seededRandom } from '/work/main/test/aggregation/support.ts';
const NOW = Date.UTC(2026, 10, 3, 12);
const t = await createAggregationContext((process.env.ENGINE ?? 'sqlite') as 'sqlite', { now: NOW });
const org = makeOrg({ timezone: 'Europe/Zurich' });
await t.ctx.storage.createOrg(org, NOW);
const random = seededRandom(1);
const events = generateEvents({ random, idPrefix: org.id, from: Date.UTC(2026, 8, 28), to: Date.UTC(2026, 10, 3, 11), count: 2500 });
const chunks = arrivalChunks(events, 5, random);
for (const c of chunks) {
  await ingestAll(t.ctx, org.id, c);
  const b = performance.now();
  const r = await aggregateDirtyBuckets(t.ctx);
  console.log('pass', Math.round(performance.now() - b), JSON.stringify(r));
}
await t.close();

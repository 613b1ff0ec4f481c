import { afterEach, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets, AggregationError, MARKS_PER_ROUND } from '../../src/app/aggregate.ts';
import type { AppContext } from '../../src/app/context.ts';
import { makeOrg } from '../factories/org.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { generateEvents } from './generate.ts';
import { createAggregationContext, ENGINES, ingestAll, seededRandom, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/**
 * A backlog (ADR 0012): a pass rebuilds each week and month of it about once, not once per
 * round of marks (8-day rounds rebuilt each month of a 30-day backlog four times), and a pass
 * failing in a later round loses nothing: that round's marks stay for the next pass.
 */

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 4, 20, 12, 0, 0);
const ZONE = 'America/New_York';
// 70 days (2026-03-11 → 05-20): March, April and May; more dirty hours than one round lists.
const FROM = NOW - 70 * DAY;

describe.each(ENGINES)('backlog rounds on %s', (engine) => {
  let t: AggregationTestContext;
  afterEach(async () => {
    await t?.close();
  });

  async function backlog(seed: number) {
    t = await createAggregationContext(engine, { now: NOW, env: { RETENTION_HOUR: '90d' } });
    const org = makeOrg({ timezone: ZONE });
    await t.ctx.storage.createOrg(org, NOW);
    const sent = generateEvents({ random: seededRandom(seed), idPrefix: org.id, from: FROM, to: NOW - 60_000, count: 6_000 });
    await ingestAll(t.ctx, org.id, sent);
    const marks = (await t.ctx.storage.listDirty(org.id, 10_000)).length;
    // Two rounds: the first cut before its last month, the second the rest.
    expect(marks).toBeGreaterThan(MARKS_PER_ROUND);
    return { org, sent };
  }

  it('rebuilds each month of a 70-day backlog once, in rounds cut at month starts', async () => {
    const { org, sent } = await backlog(11);
    const pass = await aggregateDirtyBuckets(t.ctx);
    expect(pass.tiers!.month.buckets).toBe(3);
    // The week across April/May belongs to both rounds; every other week is rebuilt once.
    expect(pass.tiers!.week.buckets).toBeLessThanOrEqual(12);
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([]);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, ZONE, sent, t.ctx.metrics))).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a pass failing in its second round keeps that round marked and loses nothing', async () => {
    const { org, sent } = await backlog(12);
    let monthWrites = 0;
    const faulty: AppContext = {
      ...t.ctx,
      rollupWriter: {
        ...t.ctx.rollupWriter,
        replaceBuckets: async (orgId, granularity, buckets, rows) => {
          if (granularity === 'month' && ++monthWrites === 2) throw new Error('killed');
          return t.ctx.storage.replaceBuckets(orgId, granularity, buckets, rows);
        },
      },
    };
    const failure = await aggregateDirtyBuckets(faulty).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AggregationError);
    // The first round (March, April) is committed and cleared; May's hours are still marked.
    const left = await t.ctx.storage.listDirty(org.id, 10_000);
    expect(left.length).toBeGreaterThan(0);
    expect(Math.min(...left.map((mark) => mark.hourStart))).toBeGreaterThanOrEqual(Date.UTC(2026, 4, 1, 4));

    await aggregateDirtyBuckets(t.ctx);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, ZONE, sent, t.ctx.metrics))).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../src/app/backfill.ts';
import { makeOrg } from '../factories/org.ts';
import { createAggregationContext, ENGINES, ingestAll, type AggregationTestContext } from './support.ts';

/**
 * `backfill`'s answer counts the buckets it rewrites (or would rewrite with --dry-run): a tier
 * skipped with --skip-hourly/-daily/-weekly/-monthly is not rewritten and counts 0, so the
 * answer never claims work it did not do.
 */

const NOW = Date.UTC(2026, 4, 20, 12, 0, 0);
const DAY = 86_400_000;

describe.each(ENGINES)('backfill bucket counts on %s', (engine) => {
  let t: AggregationTestContext;
  const org = makeOrg({ timezone: 'UTC' });
  // Two whole UTC days: 2026-05-18 and 2026-05-19 (one ISO week, one month).
  const from = Date.UTC(2026, 4, 18);
  const to = from + 2 * DAY;

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW });
    await t.ctx.storage.createOrg(org, NOW);
    await ingestAll(t.ctx, org.id, [{ id: 'h1', type: 'hitl_review', timestamp: '2026-05-18T08:10:00Z', state: 'created' }]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('counts every tier without skips', async () => {
    for (const dryRun of [true, false]) {
      expect((await backfill(t.ctx, { orgId: org.id, from, to, dryRun })).buckets, `dryRun ${dryRun}`).toEqual({ hour: 48, day: 2, week: 1, month: 1 });
    }
  });

  it('counts 0 for skipped tiers, dry run or not', async () => {
    for (const dryRun of [true, false]) {
      const hourly = await backfill(t.ctx, { orgId: org.id, from, to, dryRun, skip: { hourly: true } });
      expect(hourly.buckets, `dryRun ${dryRun}`).toEqual({ hour: 0, day: 2, week: 1, month: 1 });
      const coarse = await backfill(t.ctx, { orgId: org.id, from, to, dryRun, skip: { daily: true, weekly: true, monthly: true } });
      expect(coarse.buckets, `dryRun ${dryRun}`).toEqual({ hour: 48, day: 0, week: 0, month: 0 });
    }
  });
});

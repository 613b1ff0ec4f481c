import { afterEach, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets, AggregationError } from '../../src/app/aggregate.ts';
import { applyRetention } from '../../src/app/apply-retention.ts';
import type { AppContext } from '../../src/app/context.ts';
import { updateOrg } from '../../src/app/manage-orgs.ts';
import { onTimezoneChanged } from '../../src/app/rebuild-org.ts';
import type { Telemetry } from '../../src/ports/telemetry.ts';
import { makeOrg } from '../factories/org.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { generateEvents } from './generate.ts';
import { oracleHourStart, type SentEvent } from './oracle.ts';
import { createAggregationContext, ENGINES, ingestAll, readTier, seededRandom, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/** Time-zone rebuilds, retention, failures and leases: the paths around a pass. */

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 31, 12, 0, 0);

describe.each(ENGINES)('aggregation lifecycle on %s', (engine) => {
  let t: AggregationTestContext;
  afterEach(() => t?.close());

  async function orgWithEvents(timezone: string, days: number, count: number, seed: number) {
    const org = makeOrg({ timezone });
    await t.ctx.storage.createOrg(org, NOW);
    const sent = generateEvents({ random: seededRandom(seed), idPrefix: org.id, from: NOW - days * DAY, to: NOW - 60_000, count });
    await ingestAll(t.ctx, org.id, sent);
    return { org, sent };
  }

  it('rebuilds every tier in the new zone after a time-zone change', async () => {
    t = await createAggregationContext(engine, { now: NOW });
    // Spans the Europe/Zurich spring-forward (2026-03-29) and a month end.
    const { org, sent } = await orgWithEvents('Europe/Zurich', 20, 1500, 7);
    await aggregateDirtyBuckets(t.ctx);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, 'Europe/Zurich', sent, t.ctx.metrics))).toEqual([]);
    const version = await t.ctx.storage.getDataVersion(org.id);

    await updateOrg(t.ctx, { id: org.id, timezone: 'Asia/Kolkata' }, onTimezoneChanged);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, 'Asia/Kolkata', sent, t.ctx.metrics))).toEqual([]);
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([]);
    expect(await t.ctx.storage.getDataVersion(org.id)).toBeGreaterThan(version);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('rebuilds whole buckets under the heap policy of its context, steady and idle passes without it (ADR 0021, ADR 0029)', async () => {
    t = await createAggregationContext(engine, { now: NOW });
    // Five days of hours: more than a steady pass takes (MAX_INCREMENTAL_HOURS), so whole buckets are rebuilt.
    const { org, sent } = await orgWithEvents('UTC', 5, 600, 5);
    const seen: string[] = [];
    t.ctx.passMemory = {
      async during(work) {
        seen.push(`start, dirty: ${(await t.ctx.storage.dirtyOrgs()).join()}`);
        const result = await work();
        seen.push('end');
        return result;
      },
    };
    await aggregateDirtyBuckets(t.ctx);
    // The rebuild ran inside the policy's window, while the organization's marks were still set.
    expect(seen).toEqual([`start, dirty: ${org.id}`, 'end']);

    // A late hour of new events takes the steady path (ADR 0007), outside the window; then an idle pass.
    const late = generateEvents({ random: seededRandom(51), idPrefix: `${org.id}-late`, from: NOW - 3 * 3_600_000, to: NOW - 2 * 3_600_000, count: 30 });
    await ingestAll(t.ctx, org.id, late);
    const steady = await aggregateDirtyBuckets(t.ctx);
    expect(steady.tiers!.hour.buckets).toBe(1);
    await aggregateDirtyBuckets(t.ctx);
    expect(seen).toEqual([`start, dirty: ${org.id}`, 'end']);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, 'UTC', [...sent, ...late], t.ctx.metrics))).toEqual([]);
  });

  it('after retention deleted old hour rows, late events still yield exact days, weeks and months', async () => {
    t = await createAggregationContext(engine, { now: NOW });
    const { org, sent } = await orgWithEvents('Asia/Kolkata', 60, 2000, 11);
    await aggregateDirtyBuckets(t.ctx);
    // Five days later, the oldest hour rows written then are past hour retention.
    t.clock.advance(5 * DAY);

    const dry = await applyRetention(t.ctx, { dryRun: true });
    expect(dry.rollups.hour).toBeGreaterThan(0);
    expect(dry.events).toBe(0);
    const applied = await applyRetention(t.ctx, { dryRun: false });
    expect(applied.rollups).toEqual(dry.rollups);
    const hourCutoff = applied.cutoffs.hour!;
    expect((await readTier(t.ctx.storage, org.id, 'hour')).every((row) => row.bucketStart >= hourCutoff)).toBe(true);

    // Late events 40 and 50 days back: their days' other hour rows are gone.
    const late = generateEvents({ random: seededRandom(12), idPrefix: `${org.id}-late`, from: NOW - 50 * DAY, to: NOW - 50 * DAY + 2 * 3_600_000, count: 40 })
      .concat(generateEvents({ random: seededRandom(13), idPrefix: `${org.id}-late2`, from: NOW - 40 * DAY, to: NOW - 40 * DAY + 3_600_000, count: 40 }));
    await ingestAll(t.ctx, org.id, late);
    await aggregateDirtyBuckets(t.ctx);
    const all = [...sent, ...late];
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, all, t.ctx.metrics, { hourRowsFrom: hourCutoff }))).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('leaves a day alone when its raw events are past retention, and drops the mark', async () => {
    t = await createAggregationContext(engine, { now: NOW });
    const org = makeOrg({ timezone: 'UTC' });
    await t.ctx.storage.createOrg(org, NOW);
    const oldDay = Date.UTC(2026, 0, 1);
    const events: SentEvent[] = [0, 1, 2].map((i) => ({ id: `old-${i}`, type: 'hitl_review', timestamp: new Date(oldDay + 20 * 3_600_000 + i).toISOString(), state: 'created' }));
    await ingestAll(t.ctx, org.id, events);
    await aggregateDirtyBuckets(t.ctx);
    const before = await readTier(t.ctx.storage, org.id, 'day');
    expect(before.find((row) => row.metric === 'hitl_reviews')?.count).toBe(3);

    t.clock.set(oldDay + 20 * 3_600_000 + 1 + 90 * DAY); // the day's first event is now past raw retention
    await applyRetention(t.ctx, { dryRun: false });
    await t.ctx.storage.markDirty(org.id, [oldDay + 20 * 3_600_000]);
    await aggregateDirtyBuckets(t.ctx);
    expect(await readTier(t.ctx.storage, org.id, 'day')).toEqual(before);
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('reports a failing organization, aggregates the others, and keeps the failed marks for the next pass', async () => {
    t = await createAggregationContext(engine, { now: NOW });
    const good = await orgWithEvents('UTC', 3, 300, 21);
    const bad = await orgWithEvents('Europe/Zurich', 3, 300, 22);
    const runs: Array<Parameters<Telemetry['aggregationRun']>[0]> = [];
    const faulty: AppContext = {
      ...t.ctx,
      telemetry: { ...t.ctx.telemetry, aggregationRun: (run) => runs.push(run) },
      rollupWriter: {
        ...t.ctx.rollupWriter,
        replaceBuckets: async (orgId, granularity, buckets, rows) => {
          if (orgId === bad.org.id && granularity === 'day') throw new Error('disk full');
          return t.ctx.storage.replaceBuckets(orgId, granularity, buckets, rows);
        },
        // The incremental path (ADR 0007) writes every tier in one call: the same fault on its day rows.
        writeRollupRows: async (orgId, upserts, deletes) => {
          if (orgId === bad.org.id && [...upserts, ...deletes].some((row) => row.granularity === 'day')) throw new Error('disk full');
          return t.ctx.storage.writeRollupRows(orgId, upserts, deletes);
        },
      },
    };
    const failure = await aggregateDirtyBuckets(faulty).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AggregationError);
    expect((failure as AggregationError).failures).toEqual([{ orgId: bad.org.id, message: 'disk full' }]);
    expect((failure as AggregationError).result.orgs).toBe(1);
    expect(runs).toEqual([expect.objectContaining({ ok: false })]);
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([bad.org.id]);
    expect(summarize(await compareWithOracle(t.ctx.storage, good.org.id, 'UTC', good.sent, t.ctx.metrics))).toEqual([]);

    await aggregateDirtyBuckets(t.ctx);
    expect(summarize(await compareWithOracle(t.ctx.storage, bad.org.id, 'Europe/Zurich', bad.sent, t.ctx.metrics))).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('skips an organization another worker holds, or waits for it when asked', async () => {
    t = await createAggregationContext(engine, { now: NOW });
    const { org, sent } = await orgWithEvents('UTC', 2, 200, 31);
    const lease = `aggregate:${org.id}`;
    expect(await t.ctx.storage.tryAcquireLease(lease, 'other-worker', 300_000, NOW)).toBe(true);

    const skipped = await aggregateDirtyBuckets(t.ctx);
    expect(skipped).toMatchObject({ buckets: 0, orgs: 0, skipped: [org.id] });
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([org.id]);

    // A bounded wait gives up at its deadline (simulated time: nothing sleeps).
    let elapsed = 0;
    const patient = { now: () => elapsed, sleep: async (ms: number) => void (elapsed += ms) };
    const gaveUp = await aggregateDirtyBuckets(t.ctx, { waitForLeaseMs: 1_000, leaseWaiter: patient });
    expect(gaveUp).toMatchObject({ orgs: 0, skipped: [org.id] });
    expect(elapsed).toBeGreaterThanOrEqual(1_000);

    // The other worker releases 300 ms into a longer wait.
    elapsed = 0;
    const releasing = {
      now: () => elapsed,
      sleep: async (ms: number) => {
        elapsed += ms;
        if (elapsed >= 300) await t.ctx.storage.releaseLease(lease, 'other-worker');
      },
    };
    const waited = await aggregateDirtyBuckets(t.ctx, { waitForLeaseMs: 10_000, leaseWaiter: releasing });
    expect(waited.orgs).toBe(1);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, 'UTC', sent, t.ctx.metrics))).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('stops before writing when its lease expired and was taken over, leaving the marks', async () => {
    t = await createAggregationContext(engine, { now: NOW });
    // Enough days that the pass writes several times.
    const { org } = await orgWithEvents('UTC', 40, 800, 41);
    let stolen = false;
    const slow: AppContext = {
      ...t.ctx,
      rollupWriter: {
        ...t.ctx.rollupWriter,
        replaceBuckets: async (orgId, granularity, buckets, rows) => {
          await t.ctx.storage.replaceBuckets(orgId, granularity, buckets, rows);
          if (!stolen) {
            // The pass stalls past its lease; another worker takes the organization over.
            t.clock.advance(10 * 60_000);
            stolen = await t.ctx.storage.tryAcquireLease(`aggregate:${orgId}`, 'other-worker', 300_000, t.clock.now());
          }
        },
      },
    };
    const failure = await aggregateDirtyBuckets(slow).catch((error: unknown) => error);
    expect(stolen).toBe(true);
    expect(failure).toBeInstanceOf(AggregationError);
    expect((failure as AggregationError).message).toMatch(/lease .* was lost/);
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([org.id]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('counts a late event in its own hour only', async () => {
    t = await createAggregationContext(engine, { now: NOW });
    const org = makeOrg({ timezone: 'Asia/Kolkata' });
    await t.ctx.storage.createOrg(org, NOW);
    const at = NOW - 10 * DAY + 17 * 60_000;
    await ingestAll(t.ctx, org.id, [{ id: 'x', type: 'hitl_review', timestamp: new Date(at).toISOString(), state: 'approved' }]);
    const pass = await aggregateDirtyBuckets(t.ctx);
    expect(pass).toMatchObject({ buckets: 4, events: 1, orgs: 1 });
    const hours = (await readTier(t.ctx.storage, org.id, 'hour')).filter((row) => row.dimName === '');
    expect(hours.map((row) => [row.bucketStart, row.metric, row.count])).toEqual([[oracleHourStart(at, org.timezone), 'hitl_completions', 1]]);
  }, HEAVY_TEST_TIMEOUT_MS);
});

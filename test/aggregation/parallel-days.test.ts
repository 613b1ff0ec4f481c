import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import { createDayFoldThreads } from '../../src/adapters/threads/day-fold-threads.ts';
import { storageLocationOf } from '../../src/compose.ts';
import type { DayShare, ParallelDayFolder } from '../../src/ports/day-folder.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { makeOrg } from '../factories/org.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { generateEvents } from './generate.ts';
import type { SentEvent } from './oracle.ts';
import { countThreadShares, createAggregationContext, ENGINES, HEAVY_TEST_TIMEOUT_MS, ingestAll, readTier, seededRandom, type AggregationTestContext } from './support.ts';

/**
 * A backlog folded on aggregation threads (ADR 0016) when something goes wrong: the org lease
 * lost while a thread folds, a thread that dies. The pass must fail for the organization, keep
 * its marks, never let a thread write after the lease is gone nor return while one still
 * writes, and the next pass must produce exactly the oracle's rollups.
 */

const DAY = 86_400_000;
const FROM = Date.UTC(2026, 9, 20);
const TO = FROM + 10 * DAY;
const NOW = TO + 3_600_000;

describe.each(ENGINES)('aggregation threads on %s', (engine) => {
  let t: AggregationTestContext;
  const org = makeOrg({ timezone: 'America/New_York' });
  let sent: SentEvent[];

  beforeEach(async () => {
    t = await createAggregationContext(engine, { now: NOW, threads: 2 });
    await t.ctx.storage.createOrg(org, NOW);
    sent = generateEvents({ random: seededRandom(916), idPrefix: org.id, from: FROM, to: TO, count: 3_000 });
    await ingestAll(t.ctx, org.id, sent);
  });
  afterEach(() => t.close());

  const dirtyCount = async () => (await t.ctx.storage.listDirty(org.id, 100_000)).length;
  const expectOracle = async () => {
    const comparison = await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics);
    expect(summarize(comparison)).toEqual([]);
    expect(comparison.rows).toBeGreaterThan(1_000);
  };

  it('a ten-day backlog is folded partly on a thread and equals the oracle', async () => {
    const shares = countThreadShares(t.ctx);
    await aggregateDirtyBuckets(t.ctx);
    expect(shares.folded).toBe(1);
    expect(await dirtyCount()).toBe(0);
    await expectOracle();
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a lease lost while a thread folds: its share writes nothing, the pass fails after every share stopped, the marks stay', async () => {
    const real = t.ctx.dayFolder!;
    const marks = await dirtyCount();
    let threadShare: DayShare | null = null;
    let threadSettled = false;
    let stolen = false;
    const stealing: ParallelDayFolder = {
      threads: real.threads,
      writeSlot: () => real.writeSlot(),
      close: () => real.close(),
      async foldDays(share, beforeWrite) {
        threadShare = share;
        // Another worker takes the lease (expired, as if this process had stalled) as the shares start.
        t.clock.advance(31_000);
        stolen = await t.ctx.storage.tryAcquireLease(`aggregate:${org.id}`, 'another-worker', 30_000, t.clock.now());
        // The thread asks late, so this thread's share fails first while the thread still folds:
        // the pass must wait for it anyway.
        const askLate = async () => {
          await new Promise((resolve) => setTimeout(resolve, 500));
          await beforeWrite();
        };
        return real.foldDays(share, askLate).finally(() => {
          threadSettled = true;
        });
      },
    };
    t.ctx.dayFolder = stealing;

    await expect(aggregateDirtyBuckets(t.ctx)).rejects.toThrow(/lease "aggregate:.*" was lost/);
    expect(stolen).toBe(true);
    expect(threadSettled).toBe(true);
    expect(await dirtyCount()).toBe(marks);
    const hours = threadShare!.hours;
    const written = (await readTier(t.ctx.storage, org.id, 'hour')).filter((row) => row.bucketStart >= Math.min(...hours) && row.bucketStart <= Math.max(...hours));
    expect(written).toEqual([]);

    // The other worker lets go; the next pass redoes the round whole.
    await t.ctx.storage.releaseLease(`aggregate:${org.id}`, 'another-worker');
    t.ctx.dayFolder = real;
    await aggregateDirtyBuckets(t.ctx);
    expect(await dirtyCount()).toBe(0);
    await expectOracle();
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a thread that dies fails its share, not the process; the marks stay and the next pass completes', async () => {
    const real = t.ctx.dayFolder!;
    const marks = await dirtyCount();
    const crashing = createDayFoldThreads({
      entry: new URL('./fixtures/crashing-day-fold-thread.ts', import.meta.url),
      storage: storageLocationOf(t.ctx.storage)!,
      threads: 1,
      log: silentLogger,
    });
    try {
      t.ctx.dayFolder = crashing;
      await expect(aggregateDirtyBuckets(t.ctx)).rejects.toThrow(/aggregation thread crashed/);
      expect(await dirtyCount()).toBe(marks);
      // The dead thread is replaced by the next share (which dies too, and is reported again).
      await expect(aggregateDirtyBuckets(t.ctx)).rejects.toThrow(/aggregation thread crashed/);
    } finally {
      await crashing.close();
    }
    t.ctx.dayFolder = real;
    await aggregateDirtyBuckets(t.ctx);
    expect(await dirtyCount()).toBe(0);
    await expectOracle();
  }, HEAVY_TEST_TIMEOUT_MS);
});

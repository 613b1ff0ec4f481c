import { afterEach, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets, AggregationError } from '../../src/app/aggregate.ts';
import type { AppContext } from '../../src/app/context.ts';
import { makeOrg } from '../factories/org.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { generateEvents } from './generate.ts';
import { createAggregationContext, ENGINES, ingestAll, seededRandom, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/**
 * A backlog's hour and day rows are written while the next days are folded (recompute-buckets:
 * one write in flight, in order): the fold goes on during a write, writes never overlap, and
 * the pass neither returns nor fails while a write still runs — the lease is released next.
 */

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 4, 20, 12, 0, 0);
const FROM = NOW - 40 * DAY;

interface Trace {
  log: string[];
  writing: number;
  maxWriting: number;
}

/** A writer that takes its time (a server engine) and records what ran during each write. */
function slowWriter(t: AggregationTestContext, trace: Trace, failures: { write?: number; foldDuringWrite?: boolean } = {}): AppContext {
  let calls = 0;
  let foldFailed = false;
  // Both fold reads: recent hours are read with their watermark (ADR 0019), older ones without.
  const beforeFold = () => {
    if (trace.writing > 0) {
      trace.log.push('fold during write');
      if (failures.foldDuringWrite && !foldFailed) {
        foldFailed = true;
        throw new Error('scan failed');
      }
    }
  };
  return {
    ...t.ctx,
    eventReader: {
      ...t.ctx.eventReader,
      forEachEvent: async (scan, visit) => {
        beforeFold();
        return t.ctx.storage.forEachEvent(scan, visit);
      },
      forEachNewEvent: async (orgId, ranges, visit) => {
        beforeFold();
        return t.ctx.storage.forEachNewEvent(orgId, ranges, visit);
      },
    },
    rollupWriter: {
      ...t.ctx.rollupWriter,
      replaceBuckets: async (orgId, granularity, buckets, rows) => {
        const call = ++calls;
        trace.writing += 1;
        trace.maxWriting = Math.max(trace.maxWriting, trace.writing);
        try {
          await new Promise((resolve) => setTimeout(resolve, 30));
          if (call === failures.write) throw new Error(`write ${call} failed`);
          await t.ctx.storage.replaceBuckets(orgId, granularity, buckets, rows);
        } finally {
          trace.writing -= 1;
          trace.log.push(`${granularity} written`);
        }
      },
    },
  };
}

describe.each(ENGINES)('overlapped rollup writes on %s', (engine) => {
  let t: AggregationTestContext;
  afterEach(async () => {
    await t?.close();
  });

  async function backlog(seed: number) {
    t = await createAggregationContext(engine, { now: NOW, env: { RETENTION_HOUR: '90d' } });
    const org = makeOrg({ timezone: 'Asia/Kolkata' });
    await t.ctx.storage.createOrg(org, NOW);
    // Dense enough that a 40-day backlog needs several flushes of 20,000 rows.
    const sent = generateEvents({ random: seededRandom(seed), idPrefix: org.id, from: FROM, to: NOW - 60_000, count: 30_000 });
    await ingestAll(t.ctx, org.id, sent);
    return { org, sent };
  }

  it('folds the next days while a write runs, one write at a time, and returns after the last', async () => {
    const { org, sent } = await backlog(21);
    const trace: Trace = { log: [], writing: 0, maxWriting: 0 };
    await aggregateDirtyBuckets(slowWriter(t, trace));
    expect(trace.maxWriting).toBe(1);
    expect(trace.log).toContain('fold during write');
    expect(trace.writing).toBe(0);
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([]);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics))).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it.each([
    ['a write', { write: 1 }],
    ['the fold while a write runs', { foldDuringWrite: true }],
  ])('when %s fails, the pass fails only once no write is running, and the next pass repairs everything', async (_what, failures) => {
    const { org, sent } = await backlog(22);
    const trace: Trace = { log: [], writing: 0, maxWriting: 0 };
    const failure = await aggregateDirtyBuckets(slowWriter(t, trace, failures)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AggregationError);
    // The lease is released by now: no write may still be running behind the failure.
    expect(trace.writing).toBe(0);
    const logged = trace.log.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(trace.log.length).toBe(logged);
    expect((await t.ctx.storage.listDirty(org.id, 10_000)).length).toBeGreaterThan(0);
    await aggregateDirtyBuckets(t.ctx);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics))).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);
});

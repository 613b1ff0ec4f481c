import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets, AggregationError } from '../../src/app/aggregate.ts';
import { backfill } from '../../src/app/backfill.ts';
import { makeOrg } from '../factories/org.ts';
import { compareWithOracle, summarize } from './compare.ts';
import type { SentEvent } from './oracle.ts';
import { createAggregationContext, ENGINES, ingestAll, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/**
 * Incremental hour folds (ADR 0019): a steady pass adds the events stored since an hour's fold
 * to its stored rows. What must never happen is an event counted twice or a removed one kept:
 * after a pass that died between its write and its folds, after a whole-bucket rewrite of the
 * hour, after a supersede that dethrones a counted event, and after marks set by hand. Every
 * case ends in a comparison of every tier with the oracle computed from the raw events.
 */

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
// 14:00 in Kolkata (UTC+05:30): the events below fall into this local hour.
const HOUR = Date.UTC(2026, 10, 20, 8, 30, 0);
const MINUTE = 60_000;

function request(id: string, ts: number, latency: number): SentEvent {
  return { id, type: 'api_request', timestamp: new Date(ts).toISOString(), status_code: 200, latency_ms: latency, endpoint: '/v1/extract', user_id: `u-${latency % 5}` };
}

function execution(id: string, ts: number, status: string): SentEvent {
  return { id, type: 'file_execution', timestamp: new Date(ts).toISOString(), execution_id: 'exec-1', file_name: 'a.pdf', status, pages: 4, duration_ms: 900 };
}

describe.each(ENGINES)('incremental hour folds on %s', (engine) => {
  let t: AggregationTestContext;
  const org = makeOrg({ timezone: 'Asia/Kolkata' });
  const sent: SentEvent[] = [];

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW });
    await t.ctx.storage.createOrg(org, NOW);
  });
  afterAll(() => t.close());

  async function send(events: readonly SentEvent[]): Promise<void> {
    sent.push(...events);
    await ingestAll(t.ctx, org.id, events);
  }
  /** Runs `work` as a process that dies right after writing rows, before it records their hour folds. */
  async function dyingBeforeFolds(work: () => Promise<unknown>): Promise<void> {
    const writer = t.ctx.rollupWriter;
    const putHourFolds = writer.putHourFolds;
    writer.putHourFolds = async () => {
      throw new Error('process killed before recording its folds');
    };
    try {
      await expect(work()).rejects.toThrow();
    } finally {
      writer.putHourFolds = putHourFolds;
    }
  }
  async function expectOracle(): Promise<void> {
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics))).toEqual([]);
  }

  it('a steady pass reads only the events stored since the hour was folded', async () => {
    await send([request('a1', HOUR + MINUTE, 10), request('a2', HOUR + 2 * MINUTE, 20), request('a3', HOUR + 3 * MINUTE, 30)]);
    expect((await aggregateDirtyBuckets(t.ctx)).events).toBe(3);
    await send([request('a4', HOUR + 4 * MINUTE, 40)]);
    expect((await aggregateDirtyBuckets(t.ctx)).events).toBe(1);
    await expectOracle();
  });

  it('a pass that dies after writing its rows but before its folds is repaired by folding the hour whole', async () => {
    await send([request('b1', HOUR + 5 * MINUTE, 50), request('b2', HOUR + 6 * MINUTE, 60)]);
    await dyingBeforeFolds(() => aggregateDirtyBuckets(t.ctx).catch((error: unknown) => {
      expect(error).toBeInstanceOf(AggregationError);
      throw error;
    }));
    // The marks stayed and the hour has no fold: every event of the hour is read again, once.
    expect((await aggregateDirtyBuckets(t.ctx)).events).toBe(6);
    await expectOracle();
    await send([request('b3', HOUR + 7 * MINUTE, 70)]);
    expect((await aggregateDirtyBuckets(t.ctx)).events).toBe(1);
    await expectOracle();
  });

  it('a whole-bucket rewrite of the hour (backfill) drops its fold first, so later events are never added to rows that already hold them', async () => {
    await send([request('c1', HOUR + 8 * MINUTE, 80)]);
    // Backfill rewrites the hour from every event, c1 included, without a pass in between, and
    // dies before it can record the hour's new fold: the old one must be gone already.
    await dyingBeforeFolds(() => backfill(t.ctx, { from: HOUR, to: HOUR + 3_600_000 }));
    await send([request('c2', HOUR + 9 * MINUTE, 90)]);
    await aggregateDirtyBuckets(t.ctx);
    await expectOracle();
    // A backfill that completes records the fold: the next pass reads only what is new.
    await backfill(t.ctx, { from: HOUR, to: HOUR + 3_600_000 });
    await send([request('c3', HOUR + 10 * MINUTE, 100)]);
    expect((await aggregateDirtyBuckets(t.ctx)).events).toBe(1);
    await expectOracle();
  });

  it('a supersede that dethrones a counted event refolds its hour; marks set by hand refold too', async () => {
    const later = HOUR + 3_600_000;
    await send([execution('e1', HOUR + 10 * MINUTE, 'ERROR')]);
    await aggregateDirtyBuckets(t.ctx);
    await expectOracle();
    // The new head lands in the next hour; the first hour loses e1, which its rows counted.
    await send([execution('e2', later + MINUTE, 'COMPLETED'), request('e3', HOUR + 11 * MINUTE, 110)]);
    await aggregateDirtyBuckets(t.ctx);
    await expectOracle();

    await t.ctx.dirtyQueue.markDirty(org.id, [HOUR]);
    const visible = sent.filter((e) => e.id !== 'e1' && Date.parse(e.timestamp) < later).length;
    expect((await aggregateDirtyBuckets(t.ctx)).events).toBe(visible);
    await expectOracle();
  }, HEAVY_TEST_TIMEOUT_MS);
});

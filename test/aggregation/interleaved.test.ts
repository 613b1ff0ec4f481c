import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import { makeOrg } from '../factories/org.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { oracleHourStart, type SentEvent } from './oracle.ts';
import { createAggregationContext, ENGINES, ingestAll, readTier, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/**
 * Interleaved ingest and aggregation (issue 3), the trap seed 000 fell into: one event a
 * minute for 48 hours across the Europe/Zurich fall-back night, ingested in 15-minute chunks
 * with a pass after each (the clock following along), then one late event per day. Every
 * hour bucket must hold exactly its own events: no partial sums left by a window that is not
 * aligned to the hour, nothing lost, nothing twice.
 */

const START = Date.UTC(2026, 9, 24, 12, 0, 0);
const MINUTE = 60_000;
const HOURS = 48;

function requestAt(ts: number, id: string): SentEvent {
  return { id, type: 'api_request', timestamp: new Date(ts).toISOString(), status_code: ts % 7 === 0 ? 500 : 200, latency_ms: (ts / MINUTE) % 997 + 1, endpoint: '/v1/extract' };
}

describe.each(ENGINES)('interleaved ingest and aggregation on %s', (engine) => {
  let t: AggregationTestContext;
  const org = makeOrg({ timezone: 'Europe/Zurich' });
  const sent: SentEvent[] = [];

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: START });
    await t.ctx.storage.createOrg(org, START);
  });
  afterAll(() => t.close());

  it('every hour bucket holds exactly its events after 192 chunk-and-pass rounds and late events', async () => {
    for (let chunkStart = START; chunkStart < START + HOURS * 60 * MINUTE; chunkStart += 15 * MINUTE) {
      const chunk = Array.from({ length: 15 }, (_, i) => requestAt(chunkStart + i * MINUTE, `m-${chunkStart + i * MINUTE}`));
      sent.push(...chunk);
      t.clock.set(chunkStart + 15 * MINUTE);
      await ingestAll(t.ctx, org.id, chunk);
      const pass = await aggregateDirtyBuckets(t.ctx);
      // The chunk's hour, its day, week and month: four buckets, never a window of old hours.
      expect(pass.buckets).toBe(4);
      // Only the chunk's events are read: the hour's earlier ones are in its stored rows (ADR 0019).
      expect(pass.events).toBe(15);
    }

    // One late event per day, at 07:30:30 local on each day, ingested after the fact.
    const late = [Date.UTC(2026, 9, 25, 6, 30, 30), Date.UTC(2026, 9, 26, 6, 30, 30)].map((ts) => requestAt(ts, `late-${ts}`));
    sent.push(...late);
    await ingestAll(t.ctx, org.id, late);
    const pass = await aggregateDirtyBuckets(t.ctx);
    expect(pass.events).toBe(2);
    // Two hours, two days, two weeks (2026-10-25 is a Sunday), one month.
    expect(pass.buckets).toBe(2 + 2 + 2 + 1);

    const hours = (await readTier(t.ctx.storage, org.id, 'hour')).filter((row) => row.metric === 'requests' && row.dimName === '');
    const lateHours = new Set(late.map((e) => oracleHourStart(Date.parse(e.timestamp), org.timezone)));
    expect(hours).toHaveLength(HOURS);
    for (const row of hours) expect(row.count, new Date(row.bucketStart).toISOString()).toBe(lateHours.has(row.bucketStart) ? 61 : 60);

    const comparison = await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics);
    expect(summarize(comparison)).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets, type AggregateResult } from '../../src/app/aggregate.ts';
import { backfill } from '../../src/app/backfill.ts';
import type { Granularity } from '../../src/domain/rollup-types.ts';
import { makeOrg } from '../factories/org.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { arrivalChunks, generateEvents } from './generate.ts';
import { oracleHourStart, type SentEvent } from './oracle.ts';
import { createAggregationContext, ENGINES, fingerprint, ingestAll, readAllTiers, readTier, seededRandom, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/**
 * Incremental coarse tiers (issue 9 build 4, ADR 0007): a pass over recent dirty hours updates
 * only the day/week/month rows of the keys that changed, by delta or by re-merging that one
 * row. Every tier must still equal the brute-force oracle after late, duplicated, out-of-order
 * and superseding arrivals across a DST day and in a half-hour zone, must be bit-identical to a
 * full rebuild, and a steady pass must not write buckets — or rows — that no dirty hour feeds.
 */

const NOW = Date.UTC(2026, 9, 26, 12, 0, 0);
// 60 hours, recent: every pass here takes the incremental path (at most MAX_INCREMENTAL_HOURS
// dirty hours, within hour retention), across Zurich's fall-back night and a week boundary.
const FROM = Date.UTC(2026, 9, 24, 0, 0, 0);
const TO = Date.UTC(2026, 9, 26, 12, 0, 0);
const SEED = Number(process.env['ORACLE_SEED'] ?? 20261203);

const ZONES = [
  { timezone: 'Europe/Zurich', hotspots: [{ from: Date.UTC(2026, 9, 24, 22), to: Date.UTC(2026, 9, 25, 3), count: 200 }] },
  { timezone: 'Asia/Kolkata', hotspots: [{ from: Date.UTC(2026, 9, 25, 18), to: Date.UTC(2026, 9, 25, 19), count: 100 }] },
];

const TIERS: readonly Granularity[] = ['hour', 'day', 'week', 'month'];

function sumTiers(passes: readonly AggregateResult[], field: 'buckets' | 'rows' | 'remerged', tiers: readonly Granularity[]): number {
  let total = 0;
  for (const pass of passes) for (const tier of tiers) total += pass.tiers![tier][field];
  return total;
}

describe.each(ENGINES)('incremental coarse tiers on %s', (engine) => {
  let t: AggregationTestContext;
  const orgs = ZONES.map((zone) => ({ ...makeOrg({ timezone: zone.timezone }), hotspots: zone.hotspots }));
  const sent = new Map<string, SentEvent[]>();

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW });
    for (const org of orgs) await t.ctx.storage.createOrg(org, NOW);
  });
  afterAll(() => t.close());

  async function expectOracle(): Promise<void> {
    for (const org of orgs) {
      const comparison = await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent.get(org.id)!, t.ctx.metrics);
      expect(summarize(comparison), `seed ${SEED}, ${org.timezone}`).toEqual([]);
    }
  }

  it('equals the oracle after every pass of a chunked arrival, re-merging the rows a delta cannot update exactly', async () => {
    const random = seededRandom(SEED);
    const chunksByOrg = orgs.map((org) => {
      const events = generateEvents({ random, idPrefix: org.id, from: FROM, to: TO, count: 1200, hotspots: org.hotspots });
      const chunks = arrivalChunks(events, 6, random);
      sent.set(org.id, []);
      return chunks;
    });
    const passes: AggregateResult[] = [];
    for (let chunk = 0; chunk < 6; chunk += 1) {
      for (const [i, org] of orgs.entries()) {
        const events = chunksByOrg[i]![chunk]!;
        sent.get(org.id)!.push(...events);
        await ingestAll(t.ctx, org.id, events);
      }
      passes.push(await aggregateDirtyBuckets(t.ctx));
      await expectOracle();
    }
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([]);
    // Superseded file executions leave hours without a row some coarse row was fed by.
    expect(sumTiers(passes.slice(1), 'remerged', ['day', 'week', 'month'])).toBeGreaterThan(0);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a full rebuild afterwards leaves every row bit for bit as the incremental passes wrote it', async () => {
    const before = await Promise.all(orgs.map((org) => readAllTiers(t.ctx.storage, org.id)));
    await backfill(t.ctx, { from: FROM - 86_400_000, to: NOW });
    const after = await Promise.all(orgs.map((org) => readAllTiers(t.ctx.storage, org.id)));
    expect(after.map(fingerprint)).toEqual(before.map(fingerprint));
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a steady pass writes only the buckets containing dirty hours, and in them only the changed rows', async () => {
    const org = orgs[0]!;
    const monthRows = async (start: number) => (await readTier(t.ctx.storage, org.id, 'month')).filter((row) => row.bucketStart === start).length;
    // Two new requests in one hour of Monday 2026-10-26 and one late request in the week before.
    const steady: SentEvent[] = [
      { id: 'steady-1', type: 'api_request', timestamp: '2026-10-26T09:10:00.000Z', endpoint: '/v1/extract', method: 'POST', status_code: 200, latency_ms: 3, cost_usd: 0.5, country: 'US' },
      { id: 'steady-2', type: 'api_request', timestamp: '2026-10-26T09:40:00.000Z', endpoint: '/v1/extract', method: 'POST', status_code: 500, latency_ms: 7000, cost_usd: 0.25 },
      { id: 'steady-3', type: 'api_request', timestamp: '2026-10-24T15:00:00.000Z', endpoint: '/v1/chat', method: 'POST', status_code: 200, latency_ms: 12, cost_usd: 0 },
    ];
    sent.get(org.id)!.push(...steady);
    const monthRowsBefore = await monthRows(oracleMonthStart(Date.UTC(2026, 9, 26), org.timezone));
    await ingestAll(t.ctx, org.id, steady);
    const pass = await aggregateDirtyBuckets(t.ctx);

    // Hours 2026-10-26 10:00 and 2026-10-24 17:00 local; their two days, two weeks, one month.
    expect(TIERS.map((tier) => pass.tiers![tier].buckets)).toEqual([2, 2, 2, 1]);
    expect(new Set(steady.map((e) => oracleHourStart(Date.parse(e.timestamp), org.timezone))).size).toBe(2);
    // Each changed hour row changes at most its own row one tier up: the coarse tiers write no more rows than the hours.
    for (const tier of ['day', 'week', 'month'] as const) expect(pass.tiers![tier].rows, tier).toBeLessThanOrEqual(pass.tiers!.hour.rows);
    expect(pass.tiers!.month.rows).toBeLessThan(monthRowsBefore);
    expect(pass.events).toBeLessThan(200);
    await expectOracle();
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a superseded event that held the minimum of its day is re-merged exactly', async () => {
    const org = orgs[1]!;
    // In Kolkata's 2026-10-25: two completed executions in two hours, then the first one is superseded by an error.
    const events: SentEvent[] = [
      { id: 'sup-a1', type: 'file_execution', timestamp: '2026-10-25T03:00:00.000Z', execution_id: 'sup-a', file_name: 'a.pdf', status: 'COMPLETED', pages: 1 },
      { id: 'sup-b1', type: 'file_execution', timestamp: '2026-10-25T06:00:00.000Z', execution_id: 'sup-b', file_name: 'b.pdf', status: 'COMPLETED', pages: 8 },
    ];
    sent.get(org.id)!.push(...events);
    await ingestAll(t.ctx, org.id, events);
    await aggregateDirtyBuckets(t.ctx);
    const superseding: SentEvent = { id: 'sup-a2', type: 'file_execution', timestamp: '2026-10-25T08:00:00.000Z', execution_id: 'sup-a', file_name: 'a.pdf', status: 'ERROR', pages: 1 };
    sent.get(org.id)!.push(superseding);
    await ingestAll(t.ctx, org.id, [superseding]);
    const pass = await aggregateDirtyBuckets(t.ctx);
    expect(pass.tiers!.day.remerged).toBeGreaterThan(0);
    await expectOracle();
  }, HEAVY_TEST_TIMEOUT_MS);
});

function oracleMonthStart(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric' }).formatToParts(new Date(instant));
  const year = Number(parts.find((p) => p.type === 'year')!.value);
  const month = Number(parts.find((p) => p.type === 'month')!.value);
  // The month's first local midnight: the UTC instant whose local date is the 1st at 00:00.
  for (let hours = -14; hours <= 14; hours += 0.5) {
    const candidate = Date.UTC(year, month - 1, 1) - hours * 3_600_000;
    const local = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(new Date(candidate));
    if (local === `01/${String(month).padStart(2, '0')}/${year}, 00:00`) return candidate;
  }
  throw new Error(`no local midnight found for ${year}-${month} in ${timeZone}`);
}

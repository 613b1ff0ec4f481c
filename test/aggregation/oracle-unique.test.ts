import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import { backfill } from '../../src/app/backfill.ts';
import { metricDefinitionSchema } from '../../src/config/metric-schema.ts';
import type { MetricDefinition } from '../../src/domain/metrics/definition.ts';
import { retentionCutoffs } from '../../src/domain/retention.ts';
import { makeOrg } from '../factories/org.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { arrivalChunks, generateEvents } from './generate.ts';
import { computeOracle, type SentEvent } from './oracle.ts';
import { createAggregationContext, ENGINES, fingerprint, HEAVY_TEST_TIMEOUT_MS, ingestAll, readAllTiers, seededRandom, TEST_GAUGE, type AggregationTestContext } from './support.ts';

/**
 * The `unique` oracle (issue 9 item 3): distinct counts in every rollup row of every tier equal
 * the exact number of distinct values computed from the sent events (exactly while small,
 * within 2 % once the sketch turns into HyperLogLog registers). Thousands of users crowd the
 * Europe/Zurich fall-back night and the Asia/Kolkata (UTC+05:30) month boundary, events
 * arrive late, twice and out of order, and a custom unique metric over file executions counts
 * only executions whose latest (superseding) status is COMPLETED.
 */

const NOW = Date.UTC(2026, 10, 3, 12, 0, 0);
const FROM = Date.UTC(2026, 8, 28, 0, 0, 0);
const TO = Date.UTC(2026, 10, 3, 11, 0, 0);
const SEED = Number(process.env['ORACLE_SEED'] ?? 20261103);

/** Declared the way a config file does, so the schema must accept the kind. */
const COMPLETED_EXECUTIONS = metricDefinitionSchema.parse({
  name: 'executions.completed_distinct', kind: 'unique', event: 'file_execution', where: { status: 'COMPLETED' },
  value: 'execution_id', unit: 'executions', category: 'documents', description: 'Distinct executions whose latest status is COMPLETED',
}) as MetricDefinition;

const ZONES = [
  { timezone: 'Europe/Zurich', crowd: { from: Date.UTC(2026, 9, 24, 22), to: Date.UTC(2026, 9, 25, 3) } },
  { timezone: 'Asia/Kolkata', crowd: { from: Date.UTC(2026, 9, 31, 17), to: Date.UTC(2026, 9, 31, 20) } },
];

const int = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** Events of up to 6,000 users packed into `crowd`; some without a user. */
function crowdEvents(random: () => number, idPrefix: string, crowd: { from: number; to: number }, count: number): SentEvent[] {
  const types = ['llm_call', 'api_request', 'chat_message'] as const;
  const events: SentEvent[] = [];
  for (let i = 0; i < count; i += 1) {
    const type = types[i % 3]!;
    const ts = crowd.from + Math.floor(random() * (crowd.to - crowd.from));
    const n = int(random, 1, 6000);
    const event: SentEvent = { id: `${idPrefix}-crowd-${i}`, type, timestamp: new Date(ts).toISOString(), user_id: `user-${n}` };
    if (random() < 0.3) event['project'] = 'alpha';
    if (type === 'llm_call') Object.assign(event, { model: 'gpt-4o', usage_type: 'llm', input_tokens: 10, output_tokens: 5, cost_usd: 0.5 });
    if (type === 'api_request') Object.assign(event, { endpoint: '/v1/x', method: 'GET', status_code: 200, latency_ms: 12, cost_usd: 0 });
    if (type === 'chat_message') Object.assign(event, { kb_id: 'kb1', response_time_ms: 40 });
    if (random() < 0.1) event['user_id'] = null;
    events.push(event);
  }
  return events;
}

describe.each(ENGINES)('unique (distinct count) oracle on %s', (engine) => {
  let t: AggregationTestContext;
  const orgs = ZONES.map((zone) => ({ ...makeOrg({ timezone: zone.timezone }), crowd: zone.crowd }));
  const sent = new Map<string, SentEvent[]>();

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW, custom: [TEST_GAUGE, COMPLETED_EXECUTIONS] });
    for (const org of orgs) await t.ctx.storage.createOrg(org, NOW);
  });
  afterAll(() => t.close());

  it('every unique row of every tier equals the exact distinct count (within 2 % once large)', async () => {
    const random = seededRandom(SEED);
    const chunksByOrg = orgs.map((org) => {
      const events = [
        ...generateEvents({ random, idPrefix: org.id, from: FROM, to: TO, count: 1500 }),
        ...crowdEvents(random, org.id, org.crowd, 9000),
      ];
      const chunks = arrivalChunks(events, 4, random);
      sent.set(org.id, chunks.flat());
      return chunks;
    });
    for (let chunk = 0; chunk < 4; chunk += 1) {
      for (const [i, org] of orgs.entries()) await ingestAll(t.ctx, org.id, chunksByOrg[i]![chunk]!);
      await aggregateDirtyBuckets(t.ctx);
    }
    const hourCutoff = retentionCutoffs(NOW, t.ctx.config.retention).hour!;
    for (const org of orgs) {
      const comparison = await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent.get(org.id)!, t.ctx.metrics, { hourRowsFrom: hourCutoff });
      expect(summarize(comparison), `seed ${SEED}, ${org.timezone}`).toEqual([]);
      // The scenario really exercises both forms: small exact sets and large register sketches.
      const oracle = computeOracle(sent.get(org.id)!, t.ctx.metrics, org.timezone);
      const sizes = [...oracle.entries()].filter(([key]) => key.includes('|active_users|')).map(([, cell]) => cell.distinct.size);
      expect(Math.max(...sizes)).toBeGreaterThan(3000);
      expect(sizes.filter((size) => size > 0 && size < 50).length).toBeGreaterThan(100);
      const completed = [...oracle.entries()].filter(([key]) => key.includes('|executions.completed_distinct|'));
      expect(completed.length).toBeGreaterThan(10);
    }
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a full backfill rebuilds byte-identical distinct sketches', async () => {
    const before = await Promise.all(orgs.map((org) => readAllTiers(t.ctx.storage, org.id)));
    await backfill(t.ctx, { from: FROM - 86_400_000, to: NOW });
    const after = await Promise.all(orgs.map((org) => readAllTiers(t.ctx.storage, org.id)));
    expect(after.map(fingerprint)).toEqual(before.map(fingerprint));
  }, HEAVY_TEST_TIMEOUT_MS);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../../src/app/apply-retention.ts';
import { seriesResponse, summaryResponse } from '../../src/http/query.schemas.ts';
import { uniqueId } from '../factories/index.ts';
import { checkSeries, checkSummary, METRIC_LIST } from './checks.ts';
import { generateDataset } from './dataset.ts';
import { hourLabel, oracleEvents, type OracleEvent } from './oracle.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, ingest, ok, query, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * After retention removed hour rollups older than 30 days, answers about those days stay
 * exact: day rollups cover whole days, raw events (kept 90 days) the edges, and a forced
 * hourly source falls back to raw events where its hours are gone.
 */

const ZONE = 'Europe/Zurich';

describe.each(ENGINES)('answers beyond hour-rollup retention (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let events: OracleEvent[];
  const base = () => `/api/v1/orgs/${org.id}`;

  beforeAll(async () => {
    t = await createQueryTestContext(engine);
    org = await createOrg(t.app, { id: uniqueId('retention'), timezone: ZONE });
    const sent = generateDataset(31, org.id);
    await ingest(t.app, org, sent);
    await aggregate(t.ctx);
    const removed = await applyRetention(t.ctx, { dryRun: false });
    expect(JSON.stringify(removed)).toMatch(/[1-9]/);
    events = oracleEvents(sent);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('hour rollups of September are gone', async () => {
    const hours = await t.ctx.storage.readRollups({ orgId: org.id, granularity: 'hour', from: Date.parse('2026-09-01T00:00:00Z'), to: Date.parse('2026-10-01T00:00:00Z') });
    expect(hours).toEqual([]);
  });

  it('a three-day summary in September with mid-hour edges still equals the oracle', async () => {
    const start = '2026-09-10T10:30:00+02:00';
    const end = '2026-09-13T17:15:00+02:00';
    const body = await ok(t.app, `${base()}/summary?${query({ start, end, metric: METRIC_LIST })}`, org.keys.read, summaryResponse);
    expect(body.source).toBe('daily');
    checkSummary(body, events, Date.parse(start), Date.parse(end));
  });

  it('a forced hourly series over expired hours is answered from raw events', async () => {
    const start = '2026-09-12T00:00:00+02:00';
    const end = '2026-09-13T00:00:00+02:00';
    const body = await ok(t.app, `${base()}/series?${query({ start, end, granularity: 'hour', source: 'hourly', metric: METRIC_LIST })}`, org.keys.read, seriesResponse);
    expect(body.series[0]!.data).toHaveLength(24);
    checkSeries(body, events, Date.parse(start), Date.parse(end), (ts) => hourLabel(ts, ZONE), (s) => s);
  });
});

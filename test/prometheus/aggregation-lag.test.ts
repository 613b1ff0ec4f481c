import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPromTelemetry, type PromTelemetry } from '../../src/adapters/telemetry/prom-telemetry.ts';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import { ingestEvents } from '../../src/app/ingest-events.ts';
import { createHttpServer } from '../../src/compose.ts';
import type { FastifyInstance } from 'fastify';
import { ENGINES } from '../support/engines.ts';
import { adminHeaders, bearer, createHttpTestContext, createOrgWithKeys, TEST_NOW, type HttpTestContext } from '../support/http-context.ts';

/**
 * Aggregation lag (issue 12): per organization on the keyed business endpoints
 * (`meterboard_aggregation_lag_seconds{org}`), and as the worst organization plus a count on
 * /metrics (no organization id there). Lag = now − end of the oldest hour with events not
 * aggregated yet; the expected values are computed here from the events' timestamps.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function sample(text: string, name: string, labels = ''): number | undefined {
  const escaped = `${name}${labels}`.replace(/[{}"]/g, (c) => `\\${c}`);
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

describe.each(ENGINES)('aggregation lag gauges on %s', (engine) => {
  let t: HttpTestContext;
  let telemetry: PromTelemetry;
  /** The full server (compose.ts registers the feature routes, the Prometheus ones among them). */
  let app: FastifyInstance;
  const keys = new Map<string, { read: string }>();
  // Hours are the organization's own: Asia/Kolkata is UTC+05:30 (no DST), so its hours start at
  // :30 UTC. TEST_NOW is 12:00 UTC. late: oldest event 08:50 UTC, in the local hour 08:30–09:30
  // UTC → 2.5 h behind. current: only events of the hour in progress (11:30–12:30) → 0. idle → 0.
  const KOLKATA_OFFSET = 5.5 * HOUR;
  const events: Record<string, number[]> = {
    'lag-late': [TEST_NOW - 3 * HOUR - 10 * MINUTE, TEST_NOW - 30 * MINUTE, TEST_NOW - 2 * HOUR],
    'lag-current': [TEST_NOW - 20 * MINUTE, TEST_NOW - MINUTE],
    'lag-idle': [],
  };
  const localHourEnd = (ts: number): number => Math.floor((ts + KOLKATA_OFFSET) / HOUR) * HOUR - KOLKATA_OFFSET + HOUR;
  const expectedLag = (times: number[]): number => (times.length === 0 ? 0 : Math.max(0, (TEST_NOW - localHourEnd(Math.min(...times))) / 1000));

  beforeAll(async () => {
    t = await createHttpTestContext(engine);
    telemetry = createPromTelemetry({ processMetrics: false, readOldestDirtyHours: () => t.ctx.storage.oldestDirtyHours(), now: () => t.clock.now() });
    for (const [org, times] of Object.entries(events)) {
      keys.set(org, await createOrgWithKeys(t.app, { id: org, timezone: 'Asia/Kolkata' }));
      const batch = times.map((ts, i) => ({ id: `${org}-${i}`, type: 'page_usage', timestamp: new Date(ts).toISOString(), pages: 1 }));
      if (batch.length > 0) expect((await ingestEvents(t.ctx, { orgId: org, events: batch })).accepted).toBe(batch.length);
    }
    app = createHttpServer(t.ctx, { logger: false });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await t?.close();
  });

  it('each organization’s lag on the keyed endpoints, the worst one and the count on /metrics', async () => {
    expect(expectedLag(events['lag-late']!)).toBe(2.5 * 3600);
    const all = await app.inject({ method: 'GET', url: '/api/v1/prometheus', headers: adminHeaders });
    expect(all.statusCode).toBe(200);
    for (const [org, times] of Object.entries(events)) {
      expect(sample(all.body, 'meterboard_aggregation_lag_seconds', `{org="${org}"}`), org).toBe(expectedLag(times));
    }
    // A read key: its own organization's lag only.
    const own = await app.inject({ method: 'GET', url: '/api/v1/orgs/lag-late/prometheus', headers: bearer(keys.get('lag-late')!.read) });
    expect(sample(own.body, 'meterboard_aggregation_lag_seconds', '{org="lag-late"}')).toBe(2.5 * 3600);
    expect(own.body).not.toContain('lag-current');

    const metrics = await telemetry.render();
    expect(sample(metrics, 'meterboard_aggregation_max_lag_seconds')).toBe(Math.max(...Object.values(events).map(expectedLag)));
    expect(sample(metrics, 'meterboard_aggregation_organizations_waiting')).toBe(Object.values(events).filter((times) => times.length > 0).length);
    expect(metrics).not.toContain('lag-');
  });

  it('drops to 0 once a pass has aggregated every organization', async () => {
    await aggregateDirtyBuckets(t.ctx);
    const all = await app.inject({ method: 'GET', url: '/api/v1/prometheus', headers: adminHeaders });
    for (const org of Object.keys(events)) expect(sample(all.body, 'meterboard_aggregation_lag_seconds', `{org="${org}"}`)).toBe(0);
    const metrics = await telemetry.render();
    expect(sample(metrics, 'meterboard_aggregation_max_lag_seconds')).toBe(0);
    expect(sample(metrics, 'meterboard_aggregation_organizations_waiting')).toBe(0);
  });

  it('a storage that cannot answer makes the backlog gauges NaN (unknown, not "nothing waits") without failing the scrape', async () => {
    const broken = createPromTelemetry({ processMetrics: false, readOldestDirtyHours: () => Promise.reject(new Error('database down')), now: () => TEST_NOW });
    const metrics = await broken.render();
    expect(metrics).toContain('# TYPE meterboard_aggregation_max_lag_seconds gauge');
    expect(sample(metrics, 'meterboard_aggregation_max_lag_seconds')).toBeNaN();
    expect(sample(metrics, 'meterboard_aggregation_organizations_waiting')).toBeNaN();
  });
});

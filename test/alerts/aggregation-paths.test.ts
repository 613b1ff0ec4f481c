import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAlertRoutes } from '../../src/alerts/http/alerts.routes.ts';
import { registerAdminRoutes } from '../../src/http/admin.routes.ts';
import { deliverDueReports } from '../../src/reports/app/deliver-reports.ts';
import { uniqueId } from '../factories/index.ts';
import { adminHeaders, bearer, createOrg, createQueryTestContext, ENGINES, getJson, ingest, type QueryTestContext, type TestOrg } from '../query/support.ts';

/**
 * Every pass that consumes dirty marks must evaluate the alert rules of the organizations it
 * touched: the next scheduled pass only sees organizations dirty by then, so a pass that skips
 * evaluation leaves a breach unnoticed until the organization's next event. Covers the embedded
 * `POST /api/v1/admin/aggregate` and the aggregation the daily-reports job runs before reading.
 */

const NOW = Date.parse('2026-11-20T12:30:00Z');

interface ActiveJson {
  active: Array<{ rule_id: string; value: number | null }>;
}

describe.each(ENGINES)('alert evaluation after every aggregation path (%s)', (engine) => {
  let t: QueryTestContext;
  let seq = 0;

  beforeAll(async () => {
    t = await createQueryTestContext(engine, { now: NOW, routes: [registerAlertRoutes, (app, ctx) => registerAdminRoutes(app, ctx)] });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  /** A rule "more than 1 request in the last hour" and two requests in that hour (oracle: 2 > 1). */
  const breachingOrg = async (): Promise<{ org: TestOrg; ruleId: string }> => {
    const org = await createOrg(t.app, { id: uniqueId('aggpath'), timezone: 'UTC' });
    const rule = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${org.id}/alerts`,
      headers: bearer(org.keys.admin),
      payload: { name: 'Busy', metric: 'requests', condition: 'above', threshold: 1, window: '1h', channels: ['webhook'] },
    });
    expect(rule.statusCode, rule.body).toBe(201);
    const events = [NOW - 10 * 60_000, NOW - 5 * 60_000].map((at) => {
      seq += 1;
      return { id: `r${seq}`, type: 'api_request', timestamp: new Date(at).toISOString(), endpoint: '/a', method: 'GET', status_code: 200, latency_ms: 10 };
    });
    await ingest(t.app, org, events as never);
    return { org, ruleId: (rule.json() as { id: string }).id };
  };
  const active = async (org: TestOrg) => (await getJson<ActiveJson>(t.app, `/api/v1/orgs/${org.id}/alerts/active`, org.keys.read)).body.active;

  it('POST /api/v1/admin/aggregate (in-process) evaluates the rules of the organizations it aggregated', async () => {
    const { org, ruleId } = await breachingOrg();
    const pass = await t.app.inject({ method: 'POST', url: '/api/v1/admin/aggregate', headers: adminHeaders });
    expect(pass.statusCode, pass.body).toBe(200);
    expect(await active(org)).toEqual([expect.objectContaining({ rule_id: ruleId, value: 2 })]);
  });

  it('the daily-reports run, which aggregates before reading, evaluates them too', async () => {
    const { org, ruleId } = await breachingOrg();
    await deliverDueReports(t.ctx);
    expect(await active(org)).toEqual([expect.objectContaining({ rule_id: ruleId, value: 2 })]);
  });
});

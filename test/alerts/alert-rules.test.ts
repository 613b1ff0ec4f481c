import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlerts } from '../../src/alerts/app/evaluate-alerts.ts';
import { registerAlertRoutes } from '../../src/alerts/http/alerts.routes.ts';
import { createAlertsRuntime } from '../../src/alerts/compose.ts';
import type { AppContext } from '../../src/app/context.ts';
import { registerReportRoutes } from '../../src/reports/http/reports.routes.ts';
import { createReportsRuntime } from '../../src/reports/compose.ts';
import { aggregateJob } from '../../src/worker/jobs/aggregate.ts';
import { uniqueId } from '../factories/index.ts';
import { aggregate, bearer, createOrg, createQueryTestContext, ENGINES, getJson, ingest, type QueryTestContext, type TestOrg } from '../query/support.ts';
import { startSmtpSink, startWebhookSink, type SmtpSink, type WebhookSink } from '../reports/support.ts';

/**
 * Alert rules end to end on each engine: rules through the API, evaluation after aggregation,
 * a real SMTP server and a local webhook endpoint receiving the notifications. Two evaluators
 * with their own connections race on every transition; values are checked against an oracle
 * computed from the events the test sent.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.parse('2026-11-20T12:30:00Z');

interface Sent {
  id: string;
  type: 'api_request';
  timestamp: string;
  endpoint: string;
  method: 'GET';
  status_code: number;
  latency_ms: number;
}

interface AlertEventJson {
  rule_id: string;
  kind: 'breach' | 'recovery';
  value: number | null;
  deliveries: Record<string, string>;
}

describe.each(ENGINES)('alert rules (%s)', (engine) => {
  let t: QueryTestContext;
  let second: AppContext;
  let smtp: SmtpSink;
  let hook: WebhookSink;
  let org: TestOrg;
  const sent: Sent[] = [];
  let seq = 0;

  const send = async (at: number, endpoint: string, latency: number) => {
    seq += 1;
    const event: Sent = { id: `a${seq}`, type: 'api_request', timestamp: new Date(at).toISOString(), endpoint, method: 'GET', status_code: 200, latency_ms: latency };
    sent.push(event);
    await ingest(t.app, org, [event] as never);
  };
  /** Oracles from the raw events sent: requests to an endpoint and average latency over [start, end). */
  const inWindow = (start: number, end: number, endpoint?: string) =>
    sent.filter((e) => Date.parse(e.timestamp) >= start && Date.parse(e.timestamp) < end && (endpoint === undefined || e.endpoint === endpoint));
  const avgLatency = (start: number, end: number) => {
    const list = inWindow(start, end);
    return list.reduce((sum, e) => sum + e.latency_ms, 0) / list.length;
  };

  const postRule = (target: TestOrg, body: Record<string, unknown>, key = target.keys.admin) =>
    t.app.inject({ method: 'POST', url: `/api/v1/orgs/${target.id}/alerts`, headers: bearer(key), payload: body });
  const history = async (target: TestOrg) => (await getJson<{ events: AlertEventJson[] }>(t.app, `/api/v1/orgs/${target.id}/alerts/events`, target.keys.read)).body.events;
  const mailsFor = (ruleName: string) => smtp.messages.filter((m) => (m.subject ?? '').endsWith(`: ${ruleName}`));
  const hooksFor = (ruleId: string) => hook.bodies.filter((b) => (b as { rule_id: string }).rule_id === ruleId);
  /** Both evaluators at once, as two workers finishing their aggregation passes together. */
  const race = () => Promise.all([evaluateAlerts(t.ctx, [org.id]), evaluateAlerts(second, [org.id])]);

  beforeAll(async () => {
    smtp = await startSmtpSink();
    hook = await startWebhookSink();
    t = await createQueryTestContext(engine, { now: NOW, smtpUrl: smtp.url, routes: [registerReportRoutes, registerAlertRoutes] });
    // The second evaluator: its own alert and report connections on the same database.
    second = { ...t.ctx, reports: createReportsRuntime({ ...t.ctx.config, smtpUrl: smtp.url }, t.reportStoreTarget), alerts: createAlertsRuntime(t.ctx.config, t.reportStoreTarget) };
    org = await createOrg(t.app, { id: uniqueId('alert'), timezone: 'UTC' });
    const settings = await t.app.inject({ method: 'PUT', url: `/api/v1/orgs/${org.id}/reports/settings`, headers: bearer(org.keys.admin), payload: { recipients: ['oncall@example.com'], webhook_url: hook.url } });
    expect(settings.statusCode).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await second?.reports.close();
    await second?.alerts.close();
    await t?.close();
    await smtp?.stop();
    await hook?.stop();
  });

  it('validates rules, naming the field and the reason; manages them with the admin key only', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ name: 'x', metric: 'no_such_metric', condition: 'above', threshold: 1, window: '1h', channels: ['email'] }, 'metric', 'unknown metric'],
      [{ name: 'x', metric: 'requests', condition: 'change_pct', threshold: 10, window: '1h', channels: ['email'] }, 'compare_to', 'required'],
      [{ name: 'x', metric: 'requests', condition: 'above', threshold: 1, window: '2h', channels: ['email'] }, 'window', ''],
      [{ name: 'x', metric: 'requests', condition: 'above', threshold: 1, window: '1h', channels: ['sms'] }, 'channels', ''],
      [{ name: 'x', metric: 'requests', condition: 'above', threshold: 1, window: '1h', channels: [] }, 'channels', ''],
      [{ name: 'x', metric: 'requests', dimension: { name: 'colour', value: 'red' }, condition: 'above', threshold: 1, window: '1h', channels: ['email'] }, 'dimension.name', 'has no dimension'],
      [{ name: 'x', metric: 'requests', condition: 'above', threshold: 'high', window: '1h', channels: ['email'] }, 'threshold', ''],
    ];
    for (const [body, field, reason] of cases) {
      const response = await postRule(org, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.body).toContain(field);
      expect(response.body).toContain(reason);
    }
    const rule = { name: 'temp', metric: 'requests', condition: 'above', threshold: 1, window: '1h', channels: ['email'] };
    expect((await postRule(org, rule, org.keys.read)).statusCode).toBe(403);
    const created = await postRule(org, rule);
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    const del = (ruleId: string) => t.app.inject({ method: 'DELETE', url: `/api/v1/orgs/${org.id}/alerts/${ruleId}`, headers: bearer(org.keys.admin) });
    expect((await del(id)).statusCode).toBe(204);
    expect((await del(id)).statusCode).toBe(404);
    const list = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/alerts`, headers: bearer(org.keys.admin) });
    expect((list.json() as { alerts: unknown[] }).alerts).toEqual([]);
  });

  it('a breach notifies once with two evaluators racing, nothing while it lasts, the recovery once', async () => {
    const created = await postRule(org, { name: 'Busy /a', metric: 'requests', dimension: { name: 'endpoint', value: '/a' }, condition: 'above', threshold: 5, window: '1h', channels: ['email', 'webhook'] });
    expect(created.statusCode, created.body).toBe(201);
    const ruleId = (created.json() as { id: string }).id;

    // 4 requests to /a in the last hour (and 6 to /b, outside the filter): below the threshold.
    for (let i = 0; i < 4; i += 1) await send(NOW - (50 - i * 10) * MINUTE, '/a', 100);
    for (let i = 0; i < 6; i += 1) await send(NOW - (45 - i * 5) * MINUTE, '/b', 100);
    // Through the aggregate job itself: aggregation, then evaluation of the organizations it touched.
    await aggregateJob.handler(t.ctx, { trigger: 'schedule' });
    expect(inWindow(NOW - HOUR, NOW, '/a')).toHaveLength(4);
    expect(mailsFor('Busy /a')).toHaveLength(0);

    // Two more (6 > 5): the job evaluates after its pass; a second evaluator races the first.
    await send(NOW - 5 * MINUTE, '/a', 100);
    await send(NOW - 2 * MINUTE, '/a', 100);
    await aggregate(t.ctx);
    const [first, other] = await race();
    expect([...first, ...other].filter((x) => x.ruleId === ruleId)).toHaveLength(1);
    await aggregateJob.handler(second, { trigger: 'schedule' });
    expect(mailsFor('Busy /a')).toHaveLength(1);
    expect(hooksFor(ruleId)).toHaveLength(1);
    const expected = inWindow(NOW - HOUR, NOW, '/a').length;
    expect(expected).toBe(6);
    let events = (await history(org)).filter((e) => e.rule_id === ruleId);
    expect(events).toEqual([expect.objectContaining({ kind: 'breach', value: expected, deliveries: { email: 'delivered', webhook: 'delivered' } })]);
    expect(mailsFor('Busy /a')[0]!.subject).toContain('ALERT');
    expect(mailsFor('Busy /a')[0]!.text).toContain(`Value: ${expected}`);
    expect((hooksFor(ruleId)[0] as { kind: string; value: number }).value).toBe(expected);

    // Still breaching, with more traffic and later passes: nothing more is sent.
    await send(NOW - 1 * MINUTE, '/a', 100);
    await aggregate(t.ctx);
    await race();
    t.clock.set(NOW + 5 * MINUTE);
    await race();
    expect(mailsFor('Busy /a')).toHaveLength(1);
    expect(hooksFor(ruleId)).toHaveLength(1);

    // The daily report generated now lists the rule among those breaching, with the value and time that started the breach.
    const report = await getJson<{ summary: { active_alerts: Array<{ name: string; metric_name: string; value: number; since: string }> } }>(
      t.app,
      `/api/v1/orgs/${org.id}/reports/daily?date=2026-11-19&format=json`,
      org.keys.read,
    );
    expect(report.body.summary.active_alerts).toEqual([
      expect.objectContaining({ name: 'Busy /a', metric_name: 'requests', value: expected, since: new Date(NOW).toISOString() }),
    ]);
    const html = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/reports/daily?date=2026-11-19&format=html`, headers: bearer(org.keys.read) });
    expect(html.body).toContain('data-active-alert="Busy /a"');

    // An hour later the window holds none of them: one recovery, with both evaluators racing.
    const later = NOW + 70 * MINUTE;
    t.clock.set(later);
    expect(inWindow(later - HOUR, later, '/a')).toHaveLength(0);
    await race();
    await race();
    expect(mailsFor('Busy /a')).toHaveLength(2);
    expect(mailsFor('Busy /a')[1]!.subject).toContain('RESOLVED');
    expect(hooksFor(ruleId)).toHaveLength(2);
    events = (await history(org)).filter((e) => e.rule_id === ruleId);
    expect(events.map((e) => [e.kind, e.value])).toEqual([
      ['recovery', 0],
      ['breach', expected],
    ]);
    const rules = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/alerts`, headers: bearer(org.keys.admin) });
    expect((rules.json() as { alerts: Array<{ id: string; state: string }> }).alerts.find((r) => r.id === ruleId)?.state).toBe('ok');
    t.clock.set(NOW);
  }, 120_000);

  it('change_pct compares the window with the same window compare_to earlier (latency by average)', async () => {
    const created = await postRule(org, { name: 'Slower', metric: 'request_latency_ms', condition: 'change_pct', threshold: 50, window: '1h', compare_to: '1d', channels: ['webhook'] });
    expect(created.statusCode, created.body).toBe(201);
    const ruleId = (created.json() as { id: string }).id;
    const at = NOW + 3 * HOUR; // an hour with no traffic from the earlier test
    t.clock.set(at);
    for (const latency of [100, 200, 120]) await send(at - 1 * 86_400_000 - 30 * MINUTE + latency, '/c', latency);
    for (const latency of [300, 500]) await send(at - 20 * MINUTE + latency, '/c', latency);
    await aggregate(t.ctx);
    await race();
    const current = avgLatency(at - HOUR, at);
    const previous = avgLatency(at - HOUR - 86_400_000, at - 86_400_000);
    const oracle = ((current - previous) / previous) * 100;
    expect(oracle).toBeGreaterThan(50);
    expect(hooksFor(ruleId)).toHaveLength(1);
    const [event] = (await history(org)).filter((e) => e.rule_id === ruleId);
    expect(event!.kind).toBe('breach');
    expect(event!.value).toBeCloseTo(oracle, 9);
    t.clock.set(NOW);
  }, 120_000);

  it('a failed send is recorded on the history row, not lost', async () => {
    const lonely = await createOrg(t.app, { id: uniqueId('alert-nohook'), timezone: 'UTC' });
    const created = await postRule(lonely, { name: 'Any', metric: 'requests', condition: 'above', threshold: 0, window: '1h', channels: ['email', 'webhook'] });
    expect(created.statusCode, created.body).toBe(201);
    await ingest(t.app, lonely, [{ id: 'n1', type: 'api_request', timestamp: new Date(NOW - MINUTE).toISOString(), endpoint: '/n', method: 'GET', status_code: 200, latency_ms: 10 }] as never);
    await aggregateJob.handler(t.ctx, { trigger: 'schedule' });
    const [event] = await history(lonely);
    expect(event).toMatchObject({ kind: 'breach', value: 1 });
    expect(event!.deliveries['email']).toMatch(/no e-mail recipients/);
    expect(event!.deliveries['webhook']).toMatch(/no webhook URL/);
  });
});

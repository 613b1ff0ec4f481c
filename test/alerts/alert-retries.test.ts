import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertNotificationsJob } from '../../src/alerts/alert-notifications.job.ts';
import { evaluateAlerts } from '../../src/alerts/app/evaluate-alerts.ts';
import { createAlertsRuntime } from '../../src/alerts/compose.ts';
import { registerAlertRoutes } from '../../src/alerts/http/alerts.routes.ts';
import { createPromTelemetry, type PromTelemetry } from '../../src/adapters/telemetry/prom-telemetry.ts';
import type { AppContext } from '../../src/app/context.ts';
import { registerReportRoutes } from '../../src/reports/http/reports.routes.ts';
import { createReportsRuntime } from '../../src/reports/compose.ts';
import { uniqueId } from '../factories/index.ts';
import { aggregate, bearer, createOrg, createQueryTestContext, ENGINES, getJson, ingest, type QueryTestContext, type TestOrg } from '../query/support.ts';
import { startSmtpSink, startWebhookSink, type SmtpSink, type WebhookSink } from '../reports/support.ts';

/**
 * The alert notification ledger with real outages: a real SMTP server (smtp-server) that is
 * stopped, so nodemailer gets a refused connection on a real socket, and a local webhook that
 * answers 500. The notification is retried with the reports' backoff, shows up on /metrics and
 * in the history, and is delivered exactly once when the channel returns — by two workers racing,
 * after a restart (new store connections, new holder ids).
 */

const MINUTE = 60_000;
const NOW = Date.parse('2026-11-21T09:00:00Z');

interface LedgerJson {
  channel: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
}
interface EventJson {
  rule_id: string;
  kind: string;
  deliveries: Record<string, string>;
  delivery: LedgerJson[];
}

/** A value of one sample in the Prometheus text exposition (independent of prom-client's API). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] === name && match[2]!.split(',').sort().join(',') === wanted) return Number(match[3]);
  }
  return undefined;
}

describe.each(ENGINES)('alert notification retries (%s)', (engine) => {
  let t: QueryTestContext;
  let smtp: SmtpSink;
  let hook: WebhookSink;
  let org: TestOrg;
  const workers: AppContext[] = [];
  let telemetry: PromTelemetry;

  /** A worker process: its own report and alert connections (and holder id) on the same database. */
  const startWorker = (): AppContext => {
    const worker: AppContext = {
      ...t.ctx,
      telemetry,
      reports: createReportsRuntime({ ...t.ctx.config, smtpUrl: smtp.url }, t.reportStoreTarget),
      alerts: createAlertsRuntime(t.ctx.config, t.reportStoreTarget),
    };
    workers.push(worker);
    return worker;
  };
  const stopWorker = async (worker: AppContext) => {
    await worker.reports.close();
    await worker.alerts.close();
  };
  const history = async () => (await getJson<{ events: EventJson[] }>(t.app, `/api/v1/orgs/${org.id}/alerts/events`, org.keys.read)).body.events;
  const mails = () => smtp.messages.filter((m) => (m.subject ?? '').includes(org.id));

  beforeAll(async () => {
    smtp = await startSmtpSink();
    hook = await startWebhookSink();
    t = await createQueryTestContext(engine, { now: NOW, smtpUrl: smtp.url, routes: [registerReportRoutes, registerAlertRoutes] });
    telemetry = createPromTelemetry({ processMetrics: false });
    org = await createOrg(t.app, { id: uniqueId('retry'), timezone: 'UTC' });
    const settings = await t.app.inject({ method: 'PUT', url: `/api/v1/orgs/${org.id}/reports/settings`, headers: bearer(org.keys.admin), payload: { recipients: ['oncall@example.com'], webhook_url: hook.url } });
    expect(settings.statusCode).toBe(200);
  }, 120_000);
  afterAll(async () => {
    for (const worker of workers) await stopWorker(worker).catch(() => undefined);
    await t?.close();
    await smtp?.stop().catch(() => undefined);
    await hook?.stop();
  });

  it('SMTP down and webhook 5xx → retried with backoff, on /metrics and in the history; delivered once when they return', async () => {
    let [a, b] = [startWorker(), startWorker()];
    telemetry.watchAlertNotifications!(() => a.alerts.store.countByStatus());
    const created = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${org.id}/alerts`,
      headers: bearer(org.keys.admin),
      payload: { name: 'Any request', metric: 'requests', condition: 'above', threshold: 0, window: '1h', channels: ['email', 'webhook'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const ruleId = (created.json() as { id: string }).id;

    // The outage: the SMTP server stops listening (connection refused), the webhook answers 500.
    await smtp.stop();
    hook.status = 500;
    await ingest(t.app, org, [{ id: 'r1', type: 'api_request', timestamp: new Date(NOW - 5 * MINUTE).toISOString(), endpoint: '/x', method: 'GET', status_code: 200, latency_ms: 5 }] as never);
    await aggregate(t.ctx);
    const [first, second] = await Promise.all([evaluateAlerts(a, [org.id]), evaluateAlerts(b, [org.id])]);
    expect([...first, ...second].filter((x) => x.ruleId === ruleId)).toHaveLength(1); // one breach, one winner

    let [event] = await history();
    expect(event).toMatchObject({ rule_id: ruleId, kind: 'breach' });
    expect(event!.deliveries['email']).toBe(`connect ECONNREFUSED 127.0.0.1:${smtp.port}`);
    expect(event!.deliveries['webhook']).toBe('webhook answered 500 Internal Server Error');
    for (const row of event!.delivery) {
      // First attempt failed: retried 1 minute later (the reports' backoff after attempt 1).
      expect(row).toMatchObject({ status: 'failed', attempts: 1, delivered_at: null, next_attempt_at: new Date(NOW + MINUTE).toISOString() });
    }
    let metrics = await telemetry.render();
    expect(sample(metrics, 'meterboard_alert_notifications_total', { channel: 'email', result: 'failed' })).toBe(1);
    expect(sample(metrics, 'meterboard_alert_notifications_total', { channel: 'webhook', result: 'failed' })).toBe(1);
    expect(sample(metrics, 'meterboard_alert_notifications_undelivered', { status: 'failed' })).toBe(2);

    // Before the backoff has passed the job sends nothing, on either worker.
    t.clock.set(NOW + 30_000);
    await Promise.all([alertNotificationsJob.handler(a, { trigger: 'schedule' }), alertNotificationsJob.handler(b, { trigger: 'schedule' })]);
    [event] = await history();
    expect(event!.delivery.map((d) => d.attempts)).toEqual([1, 1]);

    // Due, still down: a second attempt each (one worker wins each row), next one 2 minutes later.
    t.clock.set(NOW + MINUTE);
    await Promise.all([alertNotificationsJob.handler(a, { trigger: 'schedule' }), alertNotificationsJob.handler(b, { trigger: 'schedule' })]);
    [event] = await history();
    for (const row of event!.delivery) expect(row).toMatchObject({ status: 'failed', attempts: 2, next_attempt_at: new Date(NOW + 3 * MINUTE).toISOString() });
    expect(event!.deliveries['email']).toBe(`connect ECONNREFUSED 127.0.0.1:${smtp.port}`);
    metrics = await telemetry.render();
    expect(sample(metrics, 'meterboard_alert_notifications_total', { channel: 'email', result: 'failed' })).toBe(2);

    // Both workers restart (new connections and holder ids); the channels come back.
    await stopWorker(a);
    await stopWorker(b);
    [a, b] = [startWorker(), startWorker()];
    telemetry.watchAlertNotifications!(() => a.alerts.store.countByStatus());
    await smtp.start();
    hook.status = 200;
    expect(mails()).toHaveLength(0);
    expect(hook.bodies).toHaveLength(0);

    t.clock.set(NOW + 3 * MINUTE);
    await Promise.all([alertNotificationsJob.handler(a, { trigger: 'schedule' }), alertNotificationsJob.handler(b, { trigger: 'schedule' })]);
    // Later passes and the next evaluation (still breaching) send nothing more.
    t.clock.set(NOW + 10 * MINUTE);
    await Promise.all([alertNotificationsJob.handler(a, { trigger: 'schedule' }), alertNotificationsJob.handler(b, { trigger: 'schedule' }), evaluateAlerts(a, [org.id])]);

    expect(mails()).toHaveLength(1);
    expect(mails()[0]!.subject).toBe(`[meterboard] ALERT ${org.id}: Any request`);
    expect(mails()[0]!.text).toContain('Value: 1');
    expect(hook.bodies).toHaveLength(1);
    expect(hook.bodies[0]).toMatchObject({ type: 'alert', rule_id: ruleId, kind: 'breach', value: 1 });
    [event] = await history();
    expect(event!.deliveries).toEqual({ email: 'delivered', webhook: 'delivered' });
    for (const row of event!.delivery) expect(row).toMatchObject({ status: 'delivered', attempts: 3, last_error: null, next_attempt_at: null, delivered_at: new Date(NOW + 3 * MINUTE).toISOString() });
    metrics = await telemetry.render();
    expect(sample(metrics, 'meterboard_alert_notifications_total', { channel: 'email', result: 'delivered' })).toBe(1);
    expect(sample(metrics, 'meterboard_alert_notifications_total', { channel: 'webhook', result: 'delivered' })).toBe(1);
    expect(sample(metrics, 'meterboard_alert_notifications_undelivered', { status: 'failed' })).toBe(0);
    t.clock.set(NOW);
  }, 120_000);

  it('a worker that died mid-send (row left "sending") is taken over after its lease, and delivered once', async () => {
    const [a, b] = [startWorker(), startWorker()];
    const at = NOW + 2 * 60 * MINUTE;
    t.clock.set(at);
    const before = mails().length;
    // A transition recorded by a process that then claimed the e-mail and crashed before sending.
    const eventId = await a.alerts.store.recordEvent(
      { orgId: org.id, ruleId: 'crashed-rule', ruleName: 'Crashed', kind: 'breach', value: 7, threshold: 5, at },
      { subject: `[meterboard] ALERT ${org.id}: Crashed`, text: 'crashed sender', webhook: {} },
      ['email'],
    );
    expect(await a.alerts.store.claimDelivery(eventId, 'email', 'dead-process', at, 2 * MINUTE)).toBe(1);
    const tick = () => Promise.all([alertNotificationsJob.handler(a, { trigger: 'schedule' }), alertNotificationsJob.handler(b, { trigger: 'schedule' })]);
    t.clock.set(at + MINUTE); // lease still held: nobody sends
    await tick();
    expect(mails()).toHaveLength(before);
    t.clock.set(at + 2 * MINUTE + 1); // lease expired: exactly one worker takes it over
    await tick();
    await tick();
    const sent = mails().filter((m) => m.subject === `[meterboard] ALERT ${org.id}: Crashed`);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.messageId).toBe(`<alert-${org.id}-${eventId}@meterboard>`);
    const event = (await history()).find((e) => e.rule_id === 'crashed-rule')!;
    expect(event.delivery).toEqual([expect.objectContaining({ channel: 'email', status: 'delivered', attempts: 2, last_error: null })]);
    t.clock.set(NOW);
  }, 120_000);
});

import { parse } from 'node-html-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareResponse } from '../../src/http/query.schemas.ts';
import { deliverDueReports } from '../../src/reports/app/deliver-reports.ts';
import { registerReportRoutes } from '../../src/reports/http/reports.routes.ts';
import { createReportsRuntime } from '../../src/reports/compose.ts';
import { uniqueId } from '../factories/index.ts';
import { seededRandom } from '../unit/domain/random.ts';
import { aggregate, bearer, createOrg, createQueryTestContext, ENGINES, getJson, ingest, ok, type QueryTestContext, type TestOrg } from '../query/support.ts';
import { startSmtpSink, startWebhookSink, type SmtpSink, type WebhookSink } from './support.ts';

/**
 * Daily reports end to end on each engine: a real SMTP server receives the e-mail, a local
 * HTTP server the webhook; every number in the HTML is checked against the compare API, the
 * webhook against the JSON preview; an injected clock walks across daylight-saving days.
 */

const HOUR = 3_600_000;
/** Two windows of data around the daylight-saving days, each ingested while it is recent (raw retention is 90 days). */
const WINDOWS = [
  { from: Date.parse('2026-02-20T00:00:00Z'), to: Date.parse('2026-04-01T00:00:00Z'), ingestAt: Date.parse('2026-04-01T00:00:00Z') },
  { from: Date.parse('2026-09-20T00:00:00Z'), to: Date.parse('2026-10-28T00:00:00Z'), ingestAt: Date.parse('2026-10-28T00:00:00Z') },
];
const NOW = Date.parse('2026-03-27T12:00:00Z');

function events(random: () => number, from: number, to: number) {
  const list: Array<Record<string, unknown>> = [];
  let i = 0;
  for (let ts = from; ts < to; ts += 7 * HOUR + Math.floor(random() * 3 * HOUR)) {
    i += 1;
    list.push({ id: `r${i}`, type: 'api_request', timestamp: new Date(ts).toISOString(), endpoint: '/x', method: 'GET', status_code: random() < 0.2 ? 500 : 200, latency_ms: 50 + Math.floor(random() * 400), country: 'CH' });
    list.push({ id: `p${i}`, type: 'page_usage', timestamp: new Date(ts + 60_000).toISOString(), pages: 1 + Math.floor(random() * 20), failed_pages: Math.floor(random() * 3) });
  }
  return list;
}

describe.each(ENGINES)('daily reports (%s)', (engine) => {
  let t: QueryTestContext;
  let smtp: SmtpSink;
  let hook: WebhookSink;
  let zurich: TestOrg;
  let kolkata: TestOrg;

  const settings = (org: TestOrg, body: Record<string, unknown>) =>
    t.app.inject({ method: 'PUT', url: `/api/v1/orgs/${org.id}/reports/settings`, headers: bearer(org.keys.admin), payload: body });
  const mailsFor = (org: TestOrg, date: string) => smtp.messages.filter((m) => m.messageId === `<report-${org.id}-${date}@meterboard>`);

  beforeAll(async () => {
    smtp = await startSmtpSink();
    hook = await startWebhookSink();
    t = await createQueryTestContext(engine, { now: NOW, smtpUrl: smtp.url, routes: [registerReportRoutes] });
    zurich = await createOrg(t.app, { id: uniqueId('rep-zrh'), timezone: 'Europe/Zurich' });
    kolkata = await createOrg(t.app, { id: uniqueId('rep-ccu'), timezone: 'Asia/Kolkata' });
    const random = seededRandom(4242);
    for (const window of WINDOWS) {
      t.clock.set(window.ingestAt);
      await ingest(t.app, zurich, events(random, window.from, window.to).map((e) => ({ ...e, id: `${window.from}-${String(e['id'])}` })) as never);
      await ingest(t.app, kolkata, events(random, window.from, window.to).map((e) => ({ ...e, id: `${window.from}-${String(e['id'])}` })) as never);
      await aggregate(t.ctx);
    }
    expect((await settings(zurich, { recipients: ['ops@example.com', 'cfo@example.com'], webhook_url: hook.url })).statusCode).toBe(200);
    expect((await settings(kolkata, { recipients: ['ops@example.in'] })).statusCode).toBe(200);
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
    await hook?.stop();
  });

  it('validates recipients and webhook, naming the field', async () => {
    const bad = await settings(zurich, { recipients: ['ops@example.com', 'not-an-address'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('recipients[1]');
    const badUrl = await settings(zurich, { webhook_url: 'ftp://x' });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.body).toContain('webhook_url');
    const readKey = await t.app.inject({ method: 'PUT', url: `/api/v1/orgs/${zurich.id}/reports/settings`, headers: bearer(zurich.keys.read), payload: { recipients: [] } });
    expect(readKey.statusCode).toBe(403);
  });

  it('e-mails the report once; every number in the HTML equals the compare API; the text part and the webhook match', async () => {
    t.clock.set(Date.parse('2026-03-27T23:05:00Z')); // 00:05 on 2026-03-28 in Zurich
    const result = await deliverDueReports(t.ctx);
    expect(result.outcomes.filter((o) => o.orgId === zurich.id)).toEqual([
      { orgId: zurich.id, date: '2026-03-27', channel: 'email', result: 'delivered' },
      { orgId: zurich.id, date: '2026-03-27', channel: 'webhook', result: 'delivered' },
    ]);
    const [mail] = mailsFor(zurich, '2026-03-27');
    expect(mail).toBeDefined();
    expect(mail!.subject).toContain('2026-03-27');
    expect((mail!.to as { value: Array<{ address: string }> }).value.map((v) => v.address).sort()).toEqual(['cfo@example.com', 'ops@example.com']);
    // Trend charts travel as PNG attachments referenced by cid.
    expect(mail!.attachments.length).toBeGreaterThan(0);
    expect(mail!.attachments.every((a) => a.contentType === 'image/png' && a.content.subarray(1, 4).toString() === 'PNG')).toBe(true);

    const compared = await ok(t.app, `/api/v1/orgs/${zurich.id}/compare?date=2026-03-27`, zurich.keys.read, compareResponse);
    const html = parse(String(mail!.html));
    expect(compared.metrics.length).toBeGreaterThan(3);
    const num = (text: string | undefined) => (text === undefined || text === '' ? null : Number(text));
    for (const metric of compared.metrics) {
      const current = html.querySelector(`td[data-metric="${metric.metric_name}"][data-period="current"]`);
      expect(current, metric.metric_name).not.toBeNull();
      expect(num(current!.getAttribute('data-value'))).toBe(metric.current);
      expect(num(current!.getAttribute('data-p95'))).toBe(metric.p95);
      for (const period of ['1', '7', '30'] as const) {
        const cell = html.querySelector(`td[data-metric="${metric.metric_name}"][data-period="${period}"]`)!;
        const expected = metric.comparisons[period];
        expect(num(cell.getAttribute('data-previous'))).toBe(expected.previous);
        expect(num(cell.getAttribute('data-change'))).toBe(expected.change);
        expect(num(cell.getAttribute('data-change-pct'))).toBe(expected.change_pct);
        expect(cell.getAttribute('data-level')).toBe(expected.level);
        expect(cell.getAttribute('data-tone')).toBe(expected.tone);
        // The visible text says the same: N/A without history, else the percentage.
        if (expected.previous === null) expect(cell.text).toContain('N/A');
        else if (expected.direction === 0) expect(cell.text).toContain('no change');
        else if (expected.change_pct !== null) expect(cell.text).toContain(`${expected.change_pct > 0 ? '+' : ''}${expected.change_pct.toFixed(1)}%`);
      }
    }
    // Errors' direction: a rise is red (bad), whatever its size.
    const errors = compared.metrics.find((m) => m.metric_name === 'request_errors')!;
    expect(errors.good_direction).toBe('down');
    const errorCell = html.querySelector('td[data-metric="request_errors"][data-period="1"]')!;
    if (errors.comparisons['1'].direction === 1) expect(errorCell.getAttribute('style')).toContain('#c5221f');

    const text = String(mail!.text);
    expect(text).toContain('Daily metrics report');
    const requests = compared.metrics.find((m) => m.metric_name === 'requests')!;
    expect(requests.label).toBe('API requests'); // the catalog's name, as on the dashboard
    expect(text).toContain(`${requests.label}: ${requests.current}`);
    const pages = compared.metrics.find((m) => m.metric_name === 'pages_processed')!;
    expect(text).toContain(`${pages.label}: ${pages.current!.toLocaleString('en-US')}`);

    // The webhook: the same numbers as the JSON preview, plus Slack text/blocks.
    expect(hook.bodies).toHaveLength(1);
    const body = hook.bodies[0] as Record<string, unknown>;
    const preview = await getJson<Record<string, unknown>>(t.app, `/api/v1/orgs/${zurich.id}/reports/daily?date=2026-03-27&format=json`, zurich.keys.read);
    expect(preview.status).toBe(200);
    expect(body['sections']).toEqual(preview.body['sections']);
    expect(body['summary']).toEqual(preview.body['summary']);
    expect(body['trends']).toEqual(preview.body['trends']);
    expect(typeof body['text']).toBe('string');
    expect(Array.isArray(body['blocks'])).toBe(true);

    const htmlPreview = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${zurich.id}/reports/daily?date=2026-03-27&format=html`, headers: bearer(zurich.keys.read) });
    expect(htmlPreview.headers['content-type']).toContain('text/html');
    expect(htmlPreview.body).toContain('data:image/png;base64,');

    // A second run at the same time sends nothing.
    const again = await deliverDueReports(t.ctx);
    expect(again.outcomes).toEqual([]);
    expect(mailsFor(zurich, '2026-03-27')).toHaveLength(1);
  }, 120_000);

  it('Zurich gets exactly one report for the 23- and 25-hour days, Kolkata after its own midnight; restarts and a second worker send nothing twice', async () => {
    // Two "workers": the test context and a second runtime with its own connections and lease holder.
    const runtime = () => createReportsRuntime({ ...t.ctx.config, smtpUrl: smtp.url }, t.reportStoreTarget);
    const second = { ...t.ctx, reports: runtime() };
    const sentAt = new Map<string, number>();
    for (const [from, to] of [
      ['2026-03-28T20:05:00Z', '2026-03-31T02:05:00Z'],
      ['2026-10-24T20:05:00Z', '2026-10-27T02:05:00Z'],
    ] as const) {
      for (let now = Date.parse(from); now <= Date.parse(to); now += HOUR) {
        t.clock.set(now);
        // Midway, the first worker "restarts": a fresh runtime (new connections, new lease holder).
        if (now === Date.parse('2026-03-30T03:05:00Z')) {
          await t.ctx.reports.close();
          t.ctx.reports = runtime();
        }
        const before = smtp.messages.length;
        await Promise.all([deliverDueReports(t.ctx), deliverDueReports(second)]);
        for (const mail of smtp.messages.slice(before)) sentAt.set(mail.messageId ?? '', now);
      }
    }
    for (const date of ['2026-03-28', '2026-03-29', '2026-03-30', '2026-10-24', '2026-10-25', '2026-10-26']) {
      expect(mailsFor(zurich, date), `zurich ${date}`).toHaveLength(1);
      expect(mailsFor(kolkata, date), `kolkata ${date}`).toHaveLength(1);
    }
    // Kolkata's 2026-03-29 ends at 18:30 UTC: its report goes out at the 19:05 UTC run, not after UTC midnight.
    const at = (org: TestOrg, date: string) => new Date(sentAt.get(`<report-${org.id}-${date}@meterboard>`)!).toISOString();
    expect(at(kolkata, '2026-03-29')).toBe('2026-03-29T19:05:00.000Z');
    // Zurich's 23-hour 2026-03-29 ends at 22:00 UTC (CEST); its 25-hour 2026-10-25 at 23:00 UTC (CET).
    expect(at(zurich, '2026-03-29')).toBe('2026-03-29T22:05:00.000Z');
    expect(at(zurich, '2026-10-25')).toBe('2026-10-25T23:05:00.000Z');
    expect(at(zurich, '2026-10-24')).toBe('2026-10-24T22:05:00.000Z');
    const history = await getJson<{ reports: Array<{ date: string; status: string; deliveries: Array<{ channel: string; status: string; attempts: number }> }> }>(
      t.app,
      `/api/v1/orgs/${zurich.id}/reports`,
      zurich.keys.read,
    );
    const oct25 = history.body.reports.find((r) => r.date === '2026-10-25')!;
    expect(oct25.status).toBe('delivered');
    expect(oct25.deliveries.map((d) => [d.channel, d.status, d.attempts]).sort()).toEqual([
      ['email', 'delivered', 1],
      ['webhook', 'delivered', 1],
    ]);
    await second.reports.close();
  }, 600_000);

  it('SMTP down: the delivery fails visibly, is retried with backoff and delivered once when the server is back', async () => {
    await smtp.stop();
    t.clock.set(Date.parse('2026-10-28T00:05:00Z'));
    const failed = await deliverDueReports(t.ctx);
    const mine = failed.outcomes.filter((o) => o.orgId === kolkata.id && o.channel === 'email');
    expect(mine).toMatchObject([{ date: '2026-10-27', result: 'failed' }]);
    // nodemailer's own words for the refused connection on the SMTP port, kept as the row's error.
    const refused = `connect ECONNREFUSED 127.0.0.1:${smtp.port}`;
    expect(mine[0]!.error).toBe(refused);
    const history = await getJson<{ reports: Array<{ date: string; status: string; deliveries: Array<{ channel: string; status: string; attempts: number; last_error: string | null }> }> }>(t.app, `/api/v1/orgs/${kolkata.id}/reports`, kolkata.keys.read);
    const entry = history.body.reports.find((r) => r.date === '2026-10-27')!;
    expect(entry.status).toBe('failed');
    expect(entry.deliveries.find((d) => d.channel === 'email')).toMatchObject({ status: 'failed', attempts: 1, last_error: refused });
    // Before the backoff has passed nothing is tried; after it, the retry succeeds once.
    t.clock.set(Date.parse('2026-10-28T00:05:30Z'));
    expect((await deliverDueReports(t.ctx)).outcomes.filter((o) => o.orgId === kolkata.id)).toEqual([]);
    await smtp.start();
    t.clock.set(Date.parse('2026-10-28T00:07:00Z'));
    const retried = await deliverDueReports(t.ctx);
    expect(retried.outcomes.filter((o) => o.orgId === kolkata.id)).toEqual([{ orgId: kolkata.id, date: '2026-10-27', channel: 'email', result: 'delivered' }]);
    t.clock.set(Date.parse('2026-10-28T01:05:00Z'));
    await deliverDueReports(t.ctx);
    expect(mailsFor(kolkata, '2026-10-27')).toHaveLength(1);
  }, 120_000);
});

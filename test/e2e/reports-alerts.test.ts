import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/app/manage-orgs.ts';
import { seedDemo } from '../../src/app/seed-demo.ts';
import { createContext, createHttpServer, type ContextHandle } from '../../src/compose.ts';
import { loadConfig } from '../../src/config/config.ts';
import { deliverDueReports } from '../../src/reports/app/deliver-reports.ts';
import { reportDateDue } from '../../src/reports/domain/schedule.ts';
import { aggregateJob } from '../../src/worker/jobs/aggregate.ts';
import { startSmtpSink, type SmtpSink } from '../reports/support.ts';

/**
 * The Reports page and the dashboard's active-alert list in Chromium, against the real
 * application (compose.ts wiring, embedded SQLite, real clock) with demo data and a real SMTP
 * server: the daily report is delivered by the delivery use case, then the page must show the
 * report exactly as mailed; an alert rule breached by events the test sends must be listed.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const READY = 30_000;
const MINUTE = 60_000;

describe('Reports page and active alerts in Chromium', { timeout: 120_000 }, () => {
  let dataDir: string;
  let smtp: SmtpSink;
  let handle: ContextHandle;
  let server: ReturnType<typeof createHttpServer>;
  let url: string;
  let orgId: string;
  let readKey: string;
  let browser: Browser;
  const adminKey = `e2e-admin-${Math.random().toString(36).slice(2)}-0123456789`;

  const api = async <T>(method: string, urlPath: string, body?: unknown): Promise<T> => {
    const response = await fetch(url + urlPath, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${urlPath} → ${response.status} ${await response.text()}`);
    return (response.status === 204 ? undefined : await response.json()) as T;
  };

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production' },
    });
    mkdirSync(path.join(root, 'test-results'), { recursive: true });
    smtp = await startSmtpSink();
    dataDir = mkdtempSync(path.join(tmpdir(), 'meterboard-e2e-reports-'));
    const config = loadConfig({ DATA_DIR: dataDir, ADMIN_KEY: adminKey, LOG_LEVEL: 'warn', SMTP_URL: smtp.url, REPORT_FROM: 'meterboard@example.com', CONFIG_FILE: undefined }, dataDir);
    handle = await createContext(config, { processMetrics: false });
    const seeded = await seedDemo(handle.ctx, { days: 10, orgs: 1, eventsPerDay: 300 });
    orgId = seeded.orgs[0]!.id;
    readKey = (await createKey(handle.ctx, { orgId, scope: 'read', name: 'e2e' })).secret;
    server = createHttpServer(handle.ctx, { logger: false, checkResponses: true });
    url = await server.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await handle?.close();
    await smtp?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const signedIn = async (key: string) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${url}/?org=${encodeURIComponent(orgId)}`);
    await page.getByTestId('sign-in-key').fill(key);
    await page.getByTestId('sign-in-submit').click();
    return { context, page, problems };
  };

  it('the Reports page shows the latest report as it was mailed, and its delivery', async () => {
    await api('PUT', `/api/v1/orgs/${orgId}/reports/settings`, { recipients: ['team@example.com'], webhook_url: null });
    const result = await deliverDueReports(handle.ctx);
    const org = (await handle.ctx.orgStore.getOrg(orgId))!;
    const date = reportDateDue(Date.now(), org.timezone);
    expect(result.outcomes).toEqual([{ orgId, date, channel: 'email', result: 'delivered' }]);
    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!;
    expect(mail.subject).toBe(`${org.name}: daily metrics report for ${date}`);

    const { context, page, problems } = await signedIn(readKey);
    await page.getByTestId('page-reports').click();
    const frame = page.frameLocator('[data-testid="report-frame"]');
    await expect(frame.locator('body').textContent({ timeout: READY })).resolves.toContain(date);
    const frameText = await frame.locator('body').innerText();
    expect(frameText).toContain(org.name);
    // Every number of the mailed plain-text summary line about requests appears in the page too
    // (the catalog's label, "API requests", as on the dashboard).
    const requestsLine = (mail.text ?? '').split('\n').find((line) => /^\s*API requests\b/.test(line));
    expect(requestsLine, 'the plain-text part lists requests with a number').toMatch(/^\s*API requests[^:]*: \d/);
    const firstNumber = /\d[\d,.]*/.exec(requestsLine!.replace(/^\s*API requests[^:]*:/, ''))![0];
    expect(frameText).toContain(firstNumber);
    const history = page.getByTestId('reports-history');
    await expect(history.locator('tbody tr').first().textContent({ timeout: READY })).resolves.toMatch(new RegExp(`^${date}delivered.*email: delivered`));
    await page.screenshot({ path: path.join(root, 'test-results', 'reports-page.png') });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('the dashboard lists an active alert breached by events the test sent', async () => {
    const endpoint = '/e2e-alert';
    await api('POST', `/api/v1/orgs/${orgId}/alerts`, { name: 'E2E busy endpoint', metric: 'requests', dimension: { name: 'endpoint', value: endpoint }, condition: 'above', threshold: 2, window: '1h', channels: ['email'] });
    const now = Date.now();
    const events = [3, 2, 1].map((m, i) => ({ id: `e2e-alert-${i}`, type: 'api_request', timestamp: new Date(now - m * MINUTE).toISOString(), endpoint, method: 'GET', status_code: 200, latency_ms: 10 }));
    await api('POST', `/api/v1/events?org=${encodeURIComponent(orgId)}`, { events });
    // The aggregate job: aggregation, then evaluation of the organizations it touched.
    await aggregateJob.handler(handle.ctx, { trigger: 'manual' });
    // Oracle: 3 requests to the endpoint in the last hour > threshold 2.
    expect(events.length).toBeGreaterThan(2);

    const { context, page, problems } = await signedIn(readKey);
    const list = page.getByTestId('active-alerts');
    await list.waitFor({ timeout: READY });
    const items = await list.getByTestId('active-alert').allTextContents();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatch(/^E2E busy endpoint: Requests \(endpoint = \/e2e-alert\) over 1h > 2 — now 3, since /);
    expect(smtp.messages.filter((m) => m.subject?.includes('ALERT'))).toHaveLength(1);
    await page.screenshot({ path: path.join(root, 'test-results', 'active-alerts.png') });
    expect(problems).toEqual([]);
    await context.close();
  });
});

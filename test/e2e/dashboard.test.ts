import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expectedKolkataDays, kolkataEvents } from './kolkata-fixture.ts';

/**
 * The dashboard in a real browser (Chromium through playwright-core) against a real server
 * with demo data. The browser runs in America/Los_Angeles so that any label formatted in the
 * browser's zone instead of the selected one shows up as a wrong day.
 */

interface TestApp {
  url: string;
  adminKey: string;
  readKey: string;
  orgId: string;
  close(): Promise<void>;
}
type StartTestApp = (options: { seedDemo: boolean }) => Promise<TestApp>;

const root = fileURLToPath(new URL('../..', import.meta.url));
const resultsDir = path.join(root, 'test-results');
// Where the server helper lives; overridable to run this suite against another server.
const startAppModule = process.env['E2E_START_APP'] ?? path.join(root, 'test/support/start-app.ts');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const READY = 20_000;

const ALL_PANELS = [
  'panel-summary',
  'panel-pages',
  'panel-cost',
  'panel-trend',
  'panel-activity',
  'panel-requests',
  'panel-latency',
  'panel-models',
  'panel-errors',
  'panel-countries',
  'panel-workflows',
  'panel-compare',
];

let app: TestApp;
let browser: Browser;

async function api<T>(key: string, method: string, urlPath: string, body?: unknown): Promise<T> {
  const response = await fetch(app.url + urlPath, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${urlPath} → ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  problems: string[];
}

async function openPage(width: number, height = 900): Promise<Session> {
  const context = await browser.newContext({
    viewport: { width, height },
    locale: 'en-US',
    timezoneId: 'America/Los_Angeles',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(app.url + '/');
  return { context, page, problems };
}

/** Key-only sign-in; the organization to open comes from the URL (an admin key may open any). */
async function signIn(page: Page, key: string, orgId: string): Promise<void> {
  if (!page.url().includes(`org=${encodeURIComponent(orgId)}`)) await page.goto(`${app.url}/?org=${encodeURIComponent(orgId)}`);
  await page.getByTestId('sign-in-key').fill(key);
  await page.getByTestId('sign-in-submit').click();
}

async function waitForPanels(page: Page, panels = ALL_PANELS): Promise<void> {
  for (const panel of panels) {
    await page.locator(`[data-testid="${panel}"][data-state="ready"]`).waitFor({ timeout: READY });
  }
}

/** Rows of a chart's visually hidden data table: [key, ...numbers]. */
async function chartRows(page: Page, chart: string): Promise<{ header: string[]; rows: [string, ...number[]][] }> {
  const table = page.getByTestId(`${chart}-table`);
  const header = await table.locator('thead th').allTextContents();
  const rows = await table.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [
      tr.querySelector('th')?.textContent ?? '',
      ...Array.from(tr.querySelectorAll('td')).map((td) => Number(td.getAttribute('data-value'))),
    ]),
  );
  return { header, rows: rows as [string, ...number[]][] };
}

beforeAll(async () => {
  mkdirSync(resultsDir, { recursive: true });
  // The server serves web/dist; build it from the current sources so the test sees them.
  execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
    // vitest sets NODE_ENV=test, which would bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const { startTestApp } = (await import(startAppModule)) as { startTestApp: StartTestApp };
  app = await startTestApp({ seedDemo: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('dashboard in Chromium', { timeout: 90_000 }, () => {
  test('a wrong key shows an error and never reaches the URL', async () => {
    const { context, page } = await openPage(1280);
    await signIn(page, 'definitely-not-a-key', app.orgId);
    await expect(page.getByTestId('sign-in-error').textContent({ timeout: READY })).resolves.toMatch(/wrong key/i);
    expect(page.url()).not.toContain('definitely-not-a-key');
    expect(await page.getByTestId('overview').count()).toBe(0);
    await context.close();
  });

  test('a read key sees every section without console errors, and the cards equal the API', async () => {
    const { context, page, problems } = await openPage(1280);
    await signIn(page, app.readKey, app.orgId);
    await waitForPanels(page);

    const cards = page.getByTestId('summary-cards');
    const start = await cards.getAttribute('data-start');
    const end = await cards.getAttribute('data-end');
    const tz = await page.getByTestId('timezone-select').inputValue();
    const query = new URLSearchParams({ start: start ?? '', end: end ?? '', tz });
    const summary = await api<{ summary: { metric_name: string; total_value: number }[] }>(
      app.readKey,
      'GET',
      `/api/v1/orgs/${app.orgId}/summary?${query}`,
    );
    const totals = new Map(summary.summary.map((row) => [row.metric_name, row.total_value]));
    for (const metric of ['pages_processed', 'documents_processed', 'llm_calls', 'prompt_executions', 'llm_usage', 'requests']) {
      const shown = Number(await page.getByTestId(`card-${metric}`).getAttribute('data-value'));
      expect(shown, metric).toBeCloseTo(totals.get(metric) ?? 0, 6);
    }
    expect(totals.get('pages_processed') ?? 0).toBeGreaterThan(0);

    // The key stays in sessionStorage only: not in the URL, not in localStorage.
    expect(page.url()).not.toContain(app.readKey);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(app.readKey);

    expect(problems).toEqual([]);
    await context.close();
  });

  test('overview screenshots at 1280 and 390 px, without horizontal scrolling', async () => {
    for (const width of [1280, 390]) {
      const { context, page, problems } = await openPage(width);
      await signIn(page, app.adminKey, app.orgId);
      await waitForPanels(page);
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth, `page width at ${width}px`).toBeLessThanOrEqual(width);
      await page.screenshot({ path: path.join(resultsDir, `dashboard-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
      await context.close();
    }
  });

  test('presets change the charts, metric toggles change the trend chart, CSV downloads the series', async () => {
    const { context, page } = await openPage(1280);
    await signIn(page, app.readKey, app.orgId);
    await waitForPanels(page);

    const week = await chartRows(page, 'chart-pages');
    expect(week.rows).toHaveLength(7);
    expect(week.header).toEqual(['Date', 'Pages processed', 'Failed pages']);

    const download = page.waitForEvent('download');
    await page.getByTestId('chart-pages-csv').click();
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8').trim().split(/\r\n/);
    expect(csv[0]).toBe('Date,Pages processed,Failed pages');
    expect(csv.slice(1)).toEqual(week.rows.map((row) => row.join(',')));

    await page.getByTestId('preset-24h').click();
    await page.locator('[data-testid="chart-pages-table"] tbody tr').nth(23).waitFor({ state: 'attached', timeout: READY });
    const day = await chartRows(page, 'chart-pages');
    expect(day.header[0]).toBe('Hour');
    expect(day.rows).toHaveLength(24);

    await page.getByTestId('preset-30d').click();
    await waitForPanels(page, ['panel-pages']);
    await page.locator('[data-testid="chart-pages-table"] tbody tr').nth(29).waitFor({ state: 'attached', timeout: READY });
    expect((await chartRows(page, 'chart-pages')).rows).toHaveLength(30);

    const trendHeader = () => page.getByTestId('chart-trend-table').locator('thead th').allTextContents();
    // Series are named by the catalog's display labels (once it has answered).
    await expect.poll(trendHeader, { timeout: READY }).toEqual(['Date', 'Documents processed', 'LLM calls (usage records)']);
    await page.getByTestId('trend-toggle-prompt_executions').click();
    await page.getByTestId('trend-toggle-llm_calls').click();
    expect(await trendHeader()).toEqual(['Date', 'Documents processed', 'Workflow executions (all types)']);
    await expect(page.getByTestId('trend-toggle-llm_calls').getAttribute('aria-pressed')).resolves.toBe('false');
    await context.close();
  });

  test('a failing request shows what failed, and retry recovers', async () => {
    const { context, page } = await openPage(1280);
    await page.route('**/compare?*', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable","message":"database unavailable"}}' }));
    await signIn(page, app.readKey, app.orgId);
    const error = page.getByTestId('panel-compare-error');
    await error.waitFor({ timeout: READY });
    expect(await error.textContent()).toMatch(/Could not load the metrics comparison: database unavailable \(HTTP 503\)/);
    await page.unroute('**/compare?*');
    await page.getByTestId('panel-compare-error-retry').click();
    await waitForPanels(page, ['panel-compare']);
    expect(await page.getByTestId('compare-table').locator('tbody tr').count()).toBeGreaterThan(1);
    await context.close();
  });

  test('an organization in Asia/Kolkata shows its own day boundaries; an empty one explains how to start', async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    const orgId = `kolkata-${suffix}`;
    const emptyOrgId = `empty-${suffix}`;
    await api(app.adminKey, 'POST', '/api/v1/orgs', { id: orgId, name: 'Kolkata Ltd', timezone: 'Asia/Kolkata' });
    await api(app.adminKey, 'POST', '/api/v1/orgs', { id: emptyOrgId, name: 'Empty Inc', timezone: 'UTC' });
    const ingest = await api<{ key: string }>(app.adminKey, 'POST', `/api/v1/orgs/${orgId}/keys`, { scope: 'ingest', name: 'e2e' });
    const now = Date.now();
    const accepted = await api<{ accepted: number }>(ingest.key, 'POST', '/api/v1/events', { events: kolkataEvents(now) });
    expect(accepted.accepted).toBe(2);
    await api(app.adminKey, 'POST', '/api/v1/admin/aggregate');

    const { context, page, problems } = await openPage(1280);
    await signIn(page, app.adminKey, orgId);
    await waitForPanels(page, ['panel-pages']);
    expect(await page.getByTestId('timezone-select').inputValue()).toBe('Asia/Kolkata');
    const { rows } = await chartRows(page, 'chart-pages');
    const pagesByDay = new Map(rows.map((row) => [row[0], row[1] ?? 0]));
    for (const [day, pages] of expectedKolkataDays(now)) expect(pagesByDay.get(day), day).toBe(pages);
    expect(rows.reduce((sum, row) => sum + (row[1] ?? 0), 0)).toBe(12);

    await page.getByTestId('org-switcher').selectOption(emptyOrgId);
    await page.getByTestId('empty-state').waitFor({ timeout: READY });
    expect(await page.getByTestId('empty-curl').textContent()).toContain(`curl -X POST ${app.url}/api/v1/events`);
    expect(problems).toEqual([]);
    await context.close();
  });
});

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../support/start-app.ts';

/**
 * Key-only sign-in, the view in the URL across a reload, the marker on today's partial
 * bucket, metrics without data behind "show all", descriptions on hover, and the drill-down
 * from a chart point and a table row to the events behind them — in Chromium against the
 * real app, with events this test sent (so it knows what must be listed), and no console
 * error (CSP refusals included).
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const READY = 20_000;
const DAY = 86_400_000;

let app: TestApp;
let browser: Browser;
let todayPages: number[];

async function api(key: string, method: string, urlPath: string, body?: unknown): Promise<unknown> {
  const response = await fetch(app.url + urlPath, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${urlPath} → ${response.status} ${await response.text()}`);
  return response.json();
}

/** The events this test sends: the oracle for every drill-down. */
interface SentEvent {
  id: string;
  type: string;
  timestamp: string;
  [attribute: string]: string | number;
}
let sent: SentEvent[] = [];
let catalog: { name: string; label: string; description: string }[] = [];

const newestFirst = (events: SentEvent[]) => [...events].sort((a, b) => b.timestamp.localeCompare(a.timestamp) || (a.id < b.id ? 1 : -1)).map((e) => e.id);

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  app = await startTestApp({ seedDemo: false });
  const ingestKey = ((await api(app.adminKey, 'POST', `/api/v1/orgs/${app.orgId}/keys`, { scope: 'ingest', name: 'e2e' })) as { key: string }).key;
  const now = Date.now();
  const todayStart = Math.floor(now / DAY) * DAY;
  todayPages = [3, 5, 8, 13, 21];
  const todayAt = (i: number, of: number) => new Date(todayStart + Math.floor(((now - todayStart) * (i + 1)) / (of + 2))).toISOString();
  const today = todayPages.map((pages, i) => ({ id: `today-${i}`, type: 'page_usage', timestamp: todayAt(i, todayPages.length), pages, failed_pages: i % 2, file_name: `today-${i}.pdf` }));
  const earlier = Array.from({ length: 7 }, (_, i) => ({ id: `earlier-${i}`, type: 'page_usage', timestamp: new Date(todayStart - DAY + i * 3_600_000).toISOString(), pages: 2, failed_pages: i === 3 ? 1 : 0, file_name: `earlier-${i}.pdf` }));
  // LLM calls of two usage types: "LLM calls (usage records)" counts one type, "LLM calls (all usage types)" both.
  const llm = Array.from({ length: 6 }, (_, i) => ({
    id: `llm-${i}`,
    type: 'llm_call',
    timestamp: new Date(todayStart - DAY + 30 * 60_000 + i * 3_600_000).toISOString(),
    usage_type: i % 3 === 0 ? 'embedding' : 'llm',
    model: 'gpt-4o-mini',
    cost_usd: 0.01,
    latency_ms: 400 + i,
  }));
  sent = [...today, ...earlier, ...llm];
  await api(ingestKey, 'POST', '/api/v1/events', sent);
  await api(app.adminKey, 'POST', '/api/v1/admin/aggregate');
  catalog = ((await api(app.readKey, 'GET', `/api/v1/orgs/${app.orgId}/metrics`)) as { metrics: typeof catalog }).metrics;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-US' });
  const page = await context.newPage();
  // Console errors include CSP refusals (reported through securitypolicyviolation as well).
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation of ${event.violatedDirective} by ${event.blockedURI}`));
  });
  return { context, page, problems };
}

async function drilledIds(page: Page, count: number): Promise<(string | null)[]> {
  await page.getByTestId('drilldown-panel').waitFor({ timeout: READY });
  await page.locator('[data-testid="drilldown-row"]').nth(count - 1).waitFor({ timeout: READY });
  return page.locator('[data-testid="drilldown-row"]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id')));
}

describe('dashboard sign-in, URL state, partial bucket, show all, descriptions and drill-down', { timeout: 120_000 }, () => {
  test('a read key alone signs in; the view survives a reload; today is marked partial; a point lists its events', async () => {
    const { context, page, problems } = await openPage();
    await page.goto(`${app.url}/`);

    // Key-only sign-in: no organization field; /api/v1/me tells the organization.
    expect(await page.getByTestId('sign-in-org').count()).toBe(0);
    await page.getByTestId('sign-in-key').fill(app.readKey);
    await page.getByTestId('sign-in-submit').click();
    await page.locator('[data-testid="panel-pages"][data-state="ready"]').waitFor({ timeout: READY });
    expect(await page.getByTestId('org-name').textContent()).toBe('Acme');
    expect(new URL(page.url()).searchParams.get('org')).toBe(app.orgId);

    // Today's bucket is still filling up: shaded and labelled.
    const today = new Date().toISOString().slice(0, 10);
    const partial = page.getByTestId('chart-pages-partial');
    await partial.waitFor({ timeout: READY });
    expect(await partial.getAttribute('data-partial-key')).toContain(today);
    expect(await partial.textContent()).toMatch(/in progress/);

    // Drill-down by clicking the chart itself, near today's (last) point: exactly the
    // page_usage events sent for today, newest first, pages and failed pages side by side.
    const canvas = page.getByTestId('chart-pages-canvas');
    const box = (await canvas.boundingBox())!;
    await page.mouse.click(box.x + box.width - 60, box.y + box.height / 2);
    const todays = sent.filter((e) => e.id.startsWith('today-'));
    expect(await drilledIds(page, todays.length)).toEqual(newestFirst(todays));
    expect(await page.getByTestId('drilldown-panel').getAttribute('data-metric')).toBe('pages_processed');
    const values = await page.getByTestId('drilldown-value').allTextContents();
    expect(values.map(Number)).toEqual(newestFirst(todays).map((id) => Number(todays.find((e) => e.id === id)!.pages)));
    const details = await page.locator('[data-testid="drilldown-row"] .drilldown-details').allTextContents();
    expect(details.map((text) => Number(/failed_pages=(\d+)/.exec(text)?.[1]))).toEqual(newestFirst(todays).map((id) => Number(todays.find((e) => e.id === id)!.failed_pages)));
    await page.getByTestId('drilldown-close').click();
    expect(await page.getByTestId('drilldown-panel').count()).toBe(0);

    // The failed-pages series of yesterday's point (its own button in the chart's table): only
    // the page records that had failures.
    const rows = await page.getByTestId('chart-pages-table').locator('tbody tr').count();
    await page.getByTestId(`chart-pages-pick-${rows - 2}-1`).dispatchEvent('click');
    const yesterdaysFailed = sent.filter((e) => e.id.startsWith('earlier-') && Number(e['failed_pages']) > 0);
    expect(yesterdaysFailed.length).toBeGreaterThan(0);
    expect(await drilledIds(page, yesterdaysFailed.length)).toEqual(newestFirst(yesterdaysFailed));
    expect(await page.getByTestId('drilldown-row').count()).toBe(yesterdaysFailed.length);
    expect(await page.getByTestId('drilldown-panel').getAttribute('data-metric')).toBe('failed_pages');
    await page.keyboard.press('Escape');
    expect(await page.getByTestId('drilldown-panel').count()).toBe(0);

    // The whole view goes into the URL and comes back after a reload.
    await page.getByTestId('preset-30d').click();
    await page.getByTestId('timezone-search').fill('kolkata');
    await expect.poll(() => page.getByTestId('timezone-select').inputValue(), { timeout: READY }).toBe('Asia/Kolkata');
    const zones = await page.getByTestId('timezone-select').locator('option').allTextContents();
    expect(zones.some((zone) => zone.includes('Asia/Calcutta'))).toBe(false);
    await page.getByTestId('project-filter').fill('default');
    await page.getByTestId('project-filter').press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('project'), { timeout: READY }).toBe('default');
    await page.getByTestId('show-all').check();
    const url = new URL(page.url());
    expect(url.searchParams.get('range')).toBe('30d');
    expect(url.searchParams.get('tz')).toBe('Asia/Kolkata');
    expect(url.searchParams.get('all')).toBe('1');

    await page.reload();
    await page.locator('[data-testid="panel-pages"][data-state="ready"]').waitFor({ timeout: READY });
    expect(await page.getByTestId('preset-30d').getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('timezone-select').inputValue()).toBe('Asia/Kolkata');
    expect(await page.getByTestId('project-filter').inputValue()).toBe('default');
    expect(await page.getByTestId('show-all').isChecked()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  test('metrics without data hide behind "show all"; names explain themselves on hover; a table row lists its events', async () => {
    const { context, page, problems } = await openPage();
    await page.goto(`${app.url}/`);
    await page.getByTestId('sign-in-key').fill(app.readKey);
    await page.getByTestId('sign-in-submit').click();
    await page.locator('[data-testid="panel-compare"][data-state="ready"]').waitFor({ timeout: READY });
    await page.locator('[data-testid="panel-trend"][data-state="ready"]').waitFor({ timeout: READY });

    // No api_request was sent: its card, charts and table row are hidden and named as hidden.
    expect(await page.getByTestId('show-all').isChecked()).toBe(false);
    expect(await page.getByTestId('card-requests').count()).toBe(0);
    expect(await page.getByTestId('card-pages_processed').count()).toBe(1);
    expect(await page.getByTestId('panel-requests').count()).toBe(0);
    expect(await page.getByTestId('hidden-panels').textContent()).toMatch(/API requests/);
    expect(await page.getByTestId('compare-row-requests').count()).toBe(0);
    expect(await page.getByTestId('compare-row-pages_processed').count()).toBe(1);
    expect(await page.getByTestId('trend-toggle-trace.count').count()).toBe(0);
    expect(await page.getByTestId('trend-toggle-llm_calls').count()).toBe(1);

    await page.getByTestId('show-all').check();
    await page.getByTestId('panel-requests').waitFor({ timeout: READY });
    await page.getByTestId('compare-row-requests').waitFor({ timeout: READY });
    expect(await page.getByTestId('card-requests').count()).toBe(1);
    expect(await page.getByTestId('trend-toggle-trace.count').count()).toBe(1);
    expect(await page.getByTestId('hidden-panels').count()).toBe(0);
    await page.getByTestId('show-all').uncheck();
    await expect.poll(() => page.getByTestId('compare-row-requests').count(), { timeout: READY }).toBe(0);

    // The two look-alike LLM call counts have names that say which is which, and the
    // catalog's description appears on hover.
    const byName = new Map(catalog.map((m) => [m.name, m]));
    const usage = byName.get('llm_calls')!;
    const all = byName.get('llm.call_count')!;
    expect(usage.label).not.toBe(all.label);
    await page.getByTestId('compare-row-llm.call_count').waitFor({ timeout: READY });
    for (const metric of [usage, all]) {
      const name = page.getByTestId(`compare-name-${metric.name}`);
      expect((await name.textContent())?.startsWith(metric.label)).toBe(true);
      const tip = page.getByTestId(`compare-name-${metric.name}-tip`);
      expect(await tip.isVisible()).toBe(false);
      await name.hover();
      await expect.poll(() => tip.isVisible(), { timeout: READY }).toBe(true);
      expect(await tip.textContent()).toContain(metric.description);
    }
    const card = page.getByTestId('card-llm_calls-name');
    await card.hover();
    await expect.poll(() => page.getByTestId('card-llm_calls-name-tip').isVisible(), { timeout: READY }).toBe(true);
    expect(await page.getByTestId('card-llm_calls-name-tip').textContent()).toContain(usage.description);

    // A table row (yesterday, the default compared day) lists the events behind its number.
    await page.getByTestId('compare-events-llm_calls').click();
    const usageCalls = sent.filter((e) => e.type === 'llm_call' && e['usage_type'] === 'llm');
    expect(await drilledIds(page, usageCalls.length)).toEqual(newestFirst(usageCalls));
    expect(await page.getByTestId('drilldown-row').count()).toBe(usageCalls.length);
    await page.getByTestId('drilldown-close').click();
    await page.getByTestId('compare-events-llm.call_count').click();
    const everyCall = sent.filter((e) => e.type === 'llm_call');
    expect(await drilledIds(page, everyCall.length)).toEqual(newestFirst(everyCall));
    await page.getByTestId('drilldown-close').click();

    expect(problems).toEqual([]);
    await context.close();
  });
});

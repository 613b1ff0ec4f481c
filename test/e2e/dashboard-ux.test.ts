import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../support/start-app.ts';

/**
 * Key-only sign-in, the view in the URL across a reload, the marker on today's partial
 * bucket, and the drill-down from a chart point to the events behind it — in Chromium
 * against the real app, with events this test sent (so it knows what must be listed).
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
  const today = todayPages.map((pages, i) => ({ id: `today-${i}`, type: 'page_usage', timestamp: new Date(todayStart + Math.floor(((now - todayStart) * (i + 1)) / 7)).toISOString(), pages, file_name: `today-${i}.pdf` }));
  const earlier = Array.from({ length: 7 }, (_, i) => ({ id: `earlier-${i}`, type: 'page_usage', timestamp: new Date(todayStart - DAY + i * 3_600_000).toISOString(), pages: 2, file_name: `earlier-${i}.pdf` }));
  await api(ingestKey, 'POST', '/api/v1/events', [...today, ...earlier]);
  await api(app.adminKey, 'POST', '/api/v1/admin/aggregate');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('dashboard sign-in, URL state, partial bucket and drill-down', { timeout: 90_000 }, () => {
  test('a read key alone signs in; the view survives a reload; today is marked partial; a point lists its events', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-US' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
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

    // Drill-down from today's point: exactly the page_usage events sent for today, newest first.
    const rows = await page.getByTestId('chart-pages-table').locator('tbody tr').count();
    await page.getByTestId(`chart-pages-pick-${rows - 1}`).dispatchEvent('click');
    const panel = page.getByTestId('drilldown-panel');
    await panel.waitFor({ timeout: READY });
    await page.locator('[data-testid="drilldown-row"]').nth(todayPages.length - 1).waitFor({ timeout: READY });
    const ids = await page.locator('[data-testid="drilldown-row"]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id')));
    expect(ids).toEqual(todayPages.map((_, i) => `today-${i}`).reverse());
    const details = await page.locator('[data-testid="drilldown-row"] .drilldown-details').allTextContents();
    expect(details.map((text) => Number(/pages=(\d+)/.exec(text)?.[1]))).toEqual([...todayPages].reverse());
    await page.getByTestId('drilldown-close').click();
    expect(await panel.count()).toBe(0);

    // The whole view goes into the URL and comes back after a reload.
    await page.getByTestId('preset-30d').click();
    await page.getByTestId('timezone-search').fill('kolkata');
    await expect.poll(() => page.getByTestId('timezone-select').inputValue(), { timeout: READY }).toBe('Asia/Kolkata');
    const zones = await page.getByTestId('timezone-select').locator('option').allTextContents();
    expect(zones.some((zone) => zone.includes('Asia/Calcutta'))).toBe(false);
    await page.getByTestId('project-filter').fill('default');
    await page.getByTestId('project-filter').press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('project'), { timeout: READY }).toBe('default');
    const url = new URL(page.url());
    expect(url.searchParams.get('range')).toBe('30d');
    expect(url.searchParams.get('tz')).toBe('Asia/Kolkata');

    await page.reload();
    await page.locator('[data-testid="panel-pages"][data-state="ready"]').waitFor({ timeout: READY });
    expect(await page.getByTestId('preset-30d').getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('timezone-select').inputValue()).toBe('Asia/Kolkata');
    expect(await page.getByTestId('project-filter').inputValue()).toBe('default');
    expect(problems).toEqual([]);
    await context.close();
  });
});

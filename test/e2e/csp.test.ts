import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_DIST_DIR } from '../../src/compose.ts';
import { startTestApp, type TestApp } from '../support/start-app.ts';

/**
 * Issue 13: the Content-Security-Policy set by @fastify/helmet must let the dashboard work.
 * Chromium loads it, signs in, draws the charts; no CSP violation may be reported.
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

describe('the dashboard under the Content-Security-Policy', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(`${WEB_DIST_DIR}/index.html`)) throw new Error('web/dist is missing: run `npm run build:web` first');
    app = await startTestApp({ seedDemo: true, days: 10, eventsPerDay: 300 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('loads, signs in and draws charts without any CSP violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`Refused to load: CSP violation of ${event.violatedDirective} by ${event.blockedURI}`);
      });
    });
    const response = await page.goto(`${app.url}/?org=${encodeURIComponent(app.orgId)}`);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'self'/);
    await page.getByTestId('sign-in-key').fill(app.readKey);
    await page.getByTestId('sign-in-submit').click();
    for (const panel of ['panel-summary', 'panel-trend', 'panel-cost']) {
      await page.locator(`[data-testid="${panel}"][data-state="ready"]`).waitFor({ timeout: 30_000 });
    }
    // A chart really drew: ECharts renders into a canvas with pixels.
    expect(await page.locator('canvas').count()).toBeGreaterThan(0);
    expect(violations).toEqual([]);
    await context.close();
  });
});

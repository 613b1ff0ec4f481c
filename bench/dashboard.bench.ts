import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { aggregateDirtyBuckets } from '../src/app/aggregate.ts';
import { seedDemo } from '../src/app/seed-demo.ts';
import { createHttpServer, WEB_DIST_DIR, webIsBuilt } from '../src/compose.ts';
import type { BenchSection } from './report.ts';
import { BENCH_ADMIN_KEY, createBenchCache, createBenchContext, createBenchDatabase, fmtBytes, fmtInt, fmtMs, mark, type BenchOptions } from './support.ts';

/**
 * First load of the dashboard overview in headless Chromium against the embedded server with
 * 30 days of demo data, and the gzipped size of the built JavaScript. The session (key and
 * organization) is put in sessionStorage before the page loads, as after a sign-in.
 */

export interface DashboardBenchConfig {
  days: number;
  eventsPerDay: number;
}

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const RUNS = 5;
const GOALS = { interactiveMs: 1_500, jsGzipBytes: 400 * 1024 };

interface LoadFigures {
  domContentLoaded: number;
  firstContentfulPaint: number;
  cardsWithNumbers: number;
  lastApiResponse: number;
  apiRequests: number;
  transferredBytes: number;
}

function bundleSizes(distDir: string): { js: number; jsGzip: number; css: number; cssGzip: number; files: number } {
  const assets = path.join(distDir, 'assets');
  const sizes = { js: 0, jsGzip: 0, css: 0, cssGzip: 0, files: 0 };
  for (const name of readdirSync(assets)) {
    const data = readFileSync(path.join(assets, name));
    if (name.endsWith('.js')) {
      sizes.js += data.length;
      sizes.jsGzip += gzipSync(data).length;
      sizes.files++;
    } else if (name.endsWith('.css')) {
      sizes.css += data.length;
      sizes.cssGzip += gzipSync(data).length;
    }
  }
  return sizes;
}

async function firstLoads(url: string, orgId: string, options: BenchOptions): Promise<LoadFigures[]> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const loads: LoadFigures[] = [];
    for (let run = 0; run < RUNS; run++) {
      // A fresh context each time: empty HTTP cache, as on a first visit.
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addInitScript((session) => sessionStorage.setItem('meterboard.session', session), JSON.stringify({ key: BENCH_ADMIN_KEY, orgId }));
      const page = await context.newPage();
      let apiRequests = 0;
      page.on('request', (request) => {
        if (new URL(request.url()).pathname.startsWith('/api/')) apiRequests++;
      });
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      const cards = await page.waitForFunction(
        () => (document.querySelector('[data-testid="summary-cards"] [data-value]:not([data-value=""])') ? performance.now() : false),
        undefined,
        { polling: 'raf', timeout: 30_000 },
      );
      const cardsWithNumbers = (await cards.jsonValue()) as number;
      await page.waitForLoadState('networkidle');
      const timing = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
        const api = resources.filter((r) => new URL(r.name).pathname.startsWith('/api/'));
        return {
          domContentLoaded: nav.domContentLoadedEventEnd,
          firstContentfulPaint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
          lastApiResponse: Math.max(0, ...api.map((r) => r.responseEnd)),
          transferredBytes: nav.transferSize + resources.reduce((n, r) => n + r.transferSize, 0),
        };
      });
      loads.push({ ...timing, cardsWithNumbers, apiRequests });
      options.log(`  dashboard load ${run + 1}: cards with numbers at ${fmtMs(cardsWithNumbers)}, last API answer ${fmtMs(timing.lastApiResponse)}, ${apiRequests} API calls`);
      await context.close();
    }
    return loads;
  } finally {
    await browser.close();
  }
}

export async function runDashboardBench(config: DashboardBenchConfig, options: BenchOptions): Promise<BenchSection | null> {
  if (!existsSync(CHROMIUM)) {
    options.log(`  dashboard: skipped, no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
    return null;
  }
  if (!webIsBuilt()) {
    options.log('  dashboard: skipped, web/dist is not built (npm run build:web)');
    return null;
  }
  const sizes = bundleSizes(WEB_DIST_DIR);
  const db = await createBenchDatabase('sqlite', 'web', options);
  const cache = createBenchCache('memory', options);
  const ctx = createBenchContext(db.storage, cache);
  const app = createHttpServer(ctx, { logger: false });
  try {
    const seeded = await seedDemo(ctx, { days: config.days, orgs: 1, eventsPerDay: config.eventsPerDay, aggregate: false });
    while ((await db.storage.dirtyOrgs()).length > 0) await aggregateDirtyBuckets(ctx);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const loads = await firstLoads(`${address}/`, seeded.orgs[0]!.id, options);
    const cold = loads[0]!;
    const warm = loads.slice(1);
    const median = (pick: (l: LoadFigures) => number) => {
      const values = warm.map(pick).sort((a, b) => a - b);
      return values[Math.floor(values.length / 2)] ?? NaN;
    };
    const row = (label: string, pick: (l: LoadFigures) => number, format: (n: number) => string = fmtMs) => [label, format(pick(cold)), format(median(pick))];
    return {
      id: 'dashboard',
      scale: `${fmtInt(seeded.accepted)} demo events (${config.days} days, one organization), embedded mode (SQLite, in-process cache), headless Chromium at 1280×900 on localhost, ${RUNS} loads each in a fresh browser context (empty HTTP cache)`,
      tables: [
        {
          caption: 'First load of the overview (times from navigation start)',
          header: ['', 'first load (server cache cold)', `median of the next ${warm.length} (server cache warm)`],
          rows: [
            row('DOMContentLoaded', (l) => l.domContentLoaded),
            row('first contentful paint', (l) => l.firstContentfulPaint),
            row('summary cards show numbers (interactive)', (l) => l.cardsWithNumbers),
            row('last API response', (l) => l.lastApiResponse),
            row('API requests', (l) => l.apiRequests, fmtInt),
            row('bytes transferred', (l) => l.transferredBytes, fmtBytes),
            [`goal interactive ≤ ${GOALS.interactiveMs / 1000} s`, mark(cold.cardsWithNumbers <= GOALS.interactiveMs), mark(median((l) => l.cardsWithNumbers) <= GOALS.interactiveMs)],
          ],
        },
        {
          caption: 'Built assets (web/dist, gzip level 6)',
          header: ['', 'raw', 'gzipped'],
          rows: [
            [`JavaScript (${sizes.files} file${sizes.files === 1 ? '' : 's'})`, fmtBytes(sizes.js), fmtBytes(sizes.jsGzip)],
            ['CSS', fmtBytes(sizes.css), fmtBytes(sizes.cssGzip)],
            [`goal JavaScript ≤ 400 KB gzipped`, '', mark(sizes.jsGzip <= GOALS.jsGzipBytes)],
          ],
        },
      ],
      findings: [],
    };
  } finally {
    await app.close();
    await cache.close();
    await db.dispose();
  }
}

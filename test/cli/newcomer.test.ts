import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, freePort, waitUntil, type CliProcess } from '../fault/support.ts';

/**
 * A newcomer's first hour with the compiled CLI (`npm run build` first): `npm start` (the hidden
 * `start-demo` command) on an empty data directory loads the demo with a summary rather than
 * log spam when its output is not a terminal, prints an admin key that it keeps in the data
 * directory, and `meterboard serve` on that directory accepts the same key. On a terminal
 * (a real pseudo-terminal through script(1)) the load shows a progress bar and the logs are
 * human-readable lines; otherwise they are JSON. Health and static requests are not logged
 * at info. Demo data covers at least 45 days, so every "vs 30 days" column has data.
 */

const DAY = 86_400_000;
const EVENTS_PER_DAY = 12;

/** The embedded mode: no database or Redis URL from the developer's shell, no preset admin key. */
function embeddedEnv(dataDir: string, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_KEY', 'CONFIG_FILE', 'LOG_FORMAT', 'NODE_ENV', 'VITEST', 'VITEST_WORKER_ID']) delete env[name];
  return { ...env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extra };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): CliProcess {
  // Its own process group: script(1) and the node process under it stop together.
  const child: ChildProcess = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function getJson(url: string, key?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('a newcomer: npm start, then meterboard serve on the same data', { timeout: 180_000 }, () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'meterboard-newcomer-'));
  let demo: CliProcess | undefined;
  let serve: CliProcess | undefined;
  let adminKey = '';
  let demoOutput = '';

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    demo = run(process.execPath, [BIN, 'start-demo', '--events-per-day', String(EVENTS_PER_DAY)], embeddedEnv(dataDir, port));
    await waitUntil(async () => /admin key: \S+/.test(demo!.output()), 'the demo to print its admin key', 150_000, demo);
    adminKey = /admin key: (\S+)/.exec(demo.output())![1]!;
    // Requests a browser and a probe make: health, the dashboard's files, one API call.
    for (const url of ['/health', '/ready', '/', '/health']) await fetch(base + url);
    expect((await getJson(`${base}/api/v1/orgs`, adminKey)).status).toBe(200);
    const orgs = (await getJson(`${base}/api/v1/orgs`, adminKey)).body as { id: string }[] | { orgs: { id: string }[] };
    const list = Array.isArray(orgs) ? orgs : orgs.orgs;
    expect(list).toHaveLength(3);
    const org = list[0]!.id;
    const end = Date.now();
    // Days with at least one demo event of any metric, over the last 60 days.
    const query = new URLSearchParams({ start: new Date(end - 60 * DAY).toISOString(), end: new Date(end).toISOString(), granularity: 'day', tz: 'UTC' });
    const series = (await getJson(`${base}/api/v1/orgs/${org}/series?${query}`, adminKey)).body as { series: { data: { timestamp: string; count: number }[] }[] };
    const days = new Set(series.series.flatMap((entry) => entry.data.filter((point) => point.count > 0).map((point) => point.timestamp.slice(0, 10))));
    daysWithData = days.size;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await demo.stop();
    demoOutput = demo.output();
  }, 180_000);

  let daysWithData = 0;

  afterAll(async () => {
    await demo?.stop();
    await serve?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loads the demo with a summary, not log spam, when stdout is not a terminal', () => {
    const lines = demoOutput.split('\n');
    const summary = lines.find((line) => /^Loaded [\d,]+ demo events for 3 organizations .*45 days/.test(line));
    expect(summary, demoOutput).toBeDefined();
    const loaded = Number(/^Loaded ([\d,]+)/.exec(summary!)![1]!.replace(/,/g, ''));
    expect(loaded).toBeGreaterThan(45 * EVENTS_PER_DAY * 3 * 0.5);
    // Everything before the summary is the one-line intro and a line per organization: no JSON.
    const beforeSummary = lines.slice(0, lines.indexOf(summary!));
    expect(beforeSummary.filter((line) => line.startsWith('{'))).toEqual([]);
    expect(beforeSummary.length).toBeLessThanOrEqual(5);
    expect(demoOutput).not.toMatch(/[█░]/);
  });

  it('keeps the printed admin key in the data directory', () => {
    expect(adminKey.length).toBeGreaterThanOrEqual(16);
    expect(readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim()).toBe(adminKey);
  });

  it('covers at least 45 days of demo data', () => {
    expect(daysWithData).toBeGreaterThanOrEqual(45);
  });

  it('logs JSON when not on a terminal, API requests at info but not health checks or static files', () => {
    const logs = jsonLines(demoOutput);
    expect(logs.some((entry) => entry['msg'] === 'meterboard listening')).toBe(true);
    const urls = logs.map((entry) => (entry['req'] as { url?: string } | undefined)?.url).filter((url): url is string => url !== undefined);
    expect(urls).toContain('/api/v1/orgs');
    expect(urls.filter((url) => url === '/health' || url === '/ready' || url === '/')).toEqual([]);
  });

  it('meterboard serve on the same data directory accepts the demo admin key', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    serve = run(process.execPath, [BIN, 'serve'], embeddedEnv(dataDir, port, { LOG_LEVEL: 'warn' }));
    await waitUntil(async () => (await fetch(`${base}/health`)).ok, 'serve to answer /health', 60_000, serve);
    const listed = await getJson(`${base}/api/v1/orgs`, adminKey);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect((await getJson(`${base}/api/v1/orgs`, `${adminKey}x`)).status).toBe(401);
    // serve on an existing directory loads nothing and prints no demo banner.
    await serve.stop();
    expect(serve.output()).not.toMatch(/Loaded [\d,]+ demo events|admin key:/);
  });

  it('on a terminal: a progress bar while the demo loads, then human-readable log lines', async () => {
    const ttyDir = mkdtempSync(path.join(tmpdir(), 'meterboard-newcomer-tty-'));
    try {
      const port = await freePort();
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} start-demo --events-per-day ${EVENTS_PER_DAY}`;
      const tty = run('script', ['-qfec', command, '/dev/null'], embeddedEnv(ttyDir, port, { TERM: 'xterm' }));
      await waitUntil(async () => /admin key: \S+/.test(tty.output()), 'the demo on a terminal to print its admin key', 150_000, tty);
      await fetch(`http://127.0.0.1:${port}/api/v1/orgs`);
      await waitUntil(async () => /→ 401 in \d+ ms/.test(tty.output()), 'the request log line', 10_000, tty);
      await tty.stop();
      const text = tty.output();
      expect(text).toMatch(/100% \| [\d,]+\/[\d,]+ events/);
      // While the bar runs nothing else is written (no log line breaks into it).
      const loading = text.slice(text.indexOf('Empty database'), text.indexOf('Loaded '));
      expect(loading).not.toMatch(/INFO|organization created|aggregation pass/);
      expect(text).toMatch(/\d\d:\d\d:\d\d .*INFO.* meterboard listening/);
      expect(text).toMatch(/→ 401 in \d+ ms/);
      expect(text.split(/\r?\n/).filter((line) => line.trimStart().startsWith('{"level"'))).toEqual([]);
    } finally {
      rmSync(ttyDir, { recursive: true, force: true });
    }
  });
});

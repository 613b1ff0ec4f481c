import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import { createContext, createHttpServer, type ContextHandle } from '../../src/compose.ts';
import { loadConfig } from '../../src/config/config.ts';
import { adminHeaders, bearer, createOrgWithKeys, TEST_ADMIN_KEY } from '../support/http-context.ts';

/**
 * The business series through a real Prometheus (Debian's /usr/bin/prometheus): it scrapes a
 * real meterboard server with an admin key (every organization), a read key (one
 * organization) and /metrics, then the test asks Prometheus's HTTP API. Numbers are checked
 * against sums over the events sent here; every expression of the shipped Grafana dashboard
 * and alert rules must evaluate and return data.
 */

const ROOT = new URL('../../', import.meta.url);
const HOUR = 3_600_000;
const METRICS_TOKEN = 'metrics-token-for-tests';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

type SentEvent = Record<string, string | number>;

function eventsFor(org: string, now: number, seed: number): SentEvent[] {
  const events: SentEvent[] = [];
  let n = 0;
  const at = (ageMs: number) => new Date(now - ageMs).toISOString();
  for (let i = 0; i < 60; i += 1) {
    const age = ((i * 7919 + seed * 31) % 47) * HOUR + ((i * 13) % 50) * 60_000 + 60_000;
    events.push({ id: `${org}-p${n++}`, type: 'page_usage', timestamp: at(age), pages: (i % 9) + seed, failed_pages: i % 3 });
    events.push({ id: `${org}-f${n++}`, type: 'file_execution', timestamp: at(age), execution_id: `e${i}`, file_name: 'a.pdf', status: i % 4 === 0 ? 'ERROR' : 'COMPLETED', pages: 2 });
    events.push({
      id: `${org}-l${n++}`, type: 'llm_call', timestamp: at(age), model: 'gpt-4o', usage_type: 'llm', reason: 'extraction',
      input_tokens: 100, output_tokens: 20, cost_usd: 0.25, latency_ms: 100 + i * 10, status: 'success', user_id: `u${i % (5 + seed)}`, workflow_id: `wf${i % 3}`,
    });
  }
  // Requests within the last hour, so the latency quantiles have values.
  for (let i = 0; i < 40; i += 1) {
    events.push({
      id: `${org}-r${n++}`, type: 'api_request', timestamp: at(60_000 + i * 30_000), endpoint: '/v1/extract', method: 'POST',
      status_code: i % 10 === 0 ? 500 : 200, latency_ms: 20 + i * 5, country: 'CH', user_id: `u${i % 4}`,
    });
  }
  events.push({ id: `${org}-g${n++}`, type: 'gauge', timestamp: at(2 * HOUR), name: 'total_users', value: 40 + seed });
  return events;
}

describe('business series scraped by a real Prometheus', () => {
  let dir: string;
  let handle: ContextHandle;
  let app: FastifyInstance;
  let base: string;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  let promLog = '';
  const orgs = [
    { id: 'prom-acme', timezone: 'Europe/Zurich', seed: 1 },
    { id: 'prom-globex', timezone: 'Asia/Kolkata', seed: 2 },
  ];
  const keys = new Map<string, { read: string; ingest: string }>();
  const sent = new Map<string, SentEvent[]>();

  const promQuery = async (expr: string): Promise<{ status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }> => {
    const response = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    return (await response.json()) as never;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meterboard-prom-'));
    const config = loadConfig({ ADMIN_KEY: TEST_ADMIN_KEY, LOG_LEVEL: 'silent', DATA_DIR: join(dir, 'data'), METRICS_TOKEN }, dir);
    handle = await createContext(config, { processMetrics: true });
    app = createHttpServer(handle.ctx, { logger: false, webDistDir: join(dir, 'no-web') });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const now = handle.ctx.clock.now();
    for (const org of orgs) {
      const orgKeys = await createOrgWithKeys(app, { id: org.id, timezone: org.timezone });
      keys.set(org.id, orgKeys);
      const events = eventsFor(org.id, now, org.seed);
      sent.set(org.id, events);
      const response = await app.inject({ method: 'POST', url: '/api/v1/events', headers: bearer(orgKeys.ingest), payload: [...events, events[0]!] });
      expect(response.json()).toMatchObject({ accepted: events.length, duplicates: 1, rejected: [] });
    }
    await aggregateDirtyBuckets(handle.ctx);
    // The first scrape after a pass computes the series; done here so a loaded machine does not
    // make Prometheus's first scrapes time out.
    expect((await fetch(`${base}/api/v1/prometheus`, { headers: adminHeaders })).status).toBe(200);

    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const target = base.replace('http://', '');
    const scrape = (job: string, path: string, credentials: string) =>
      `  - job_name: ${job}\n    metrics_path: ${path}\n    honor_labels: true\n    authorization:\n      credentials: ${credentials}\n    static_configs:\n      - targets: ['${target}']\n`;
    writeFileSync(join(dir, 'meterboard.rules.yml'), readFileSync(new URL('deploy/prometheus/meterboard.rules.yml', ROOT)));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n  evaluation_interval: 2s\nrule_files: ['meterboard.rules.yml']\nscrape_configs:\n` +
        scrape('business-admin', '/api/v1/prometheus', TEST_ADMIN_KEY) +
        scrape('business-read', `/api/v1/orgs/${orgs[0]!.id}/prometheus`, keys.get(orgs[0]!.id)!.read) +
        scrape('health', '/metrics', METRICS_TOKEN),
    );
    prometheus = spawn('/usr/bin/prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stderr?.on('data', (chunk: Buffer) => (promLog += chunk.toString()));
    // Ready, every target up, and enough scrapes for rate() (two samples in its window).
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (Date.now() > deadline) {
        const targets = await (await fetch(`${promUrl}/api/v1/targets`)).text().catch(() => 'unreachable');
        throw new Error(`prometheus did not scrape in time: ${targets.slice(0, 3000)}\n${promLog.slice(-1000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const up = await promQuery('count_over_time(up[1m]) >= 3 and up == 1').catch(() => null);
      if (up?.status === 'success' && up.data!.result.length === 3) break;
    }
  }, 120_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await app?.close();
    await handle?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('meterboard_pages_processed_total equals the summary total and the events sent', async () => {
    for (const org of orgs) {
      const result = await promQuery(`meterboard_pages_processed_total{org="${org.id}",job="business-admin"}`);
      const value = Number(result.data!.result[0]!.value[1]);
      const exact = sent.get(org.id)!.filter((e) => e['type'] === 'page_usage').reduce((sum, e) => sum + Number(e['pages']), 0);
      expect(value).toBe(exact);
      const start = new Date(handle.ctx.clock.now() - 10 * 86_400_000).toISOString();
      const summary = await app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/summary?metric=pages_processed&start=${start}`, headers: bearer(keys.get(org.id)!.read) });
      expect(summary.json().summary[0].total_value).toBe(value);
    }
    const read = await promQuery(`meterboard_pages_processed_total{job="business-read"}`);
    expect(read.data!.result.map((r) => r.metric['org'])).toEqual([orgs[0]!.id]);
  });

  it('exports latency quantiles, distinct users and snapshots', async () => {
    const quantiles = await promQuery(`meterboard_request_latency_seconds{org="${orgs[0]!.id}",job="business-admin"}`);
    expect(quantiles.data!.result.map((r) => r.metric['quantile']).sort()).toEqual(['0.5', '0.95', '0.99']);
    for (const r of quantiles.data!.result) expect(Number(r.value[1])).toBeGreaterThan(0.015);
    const users = await promQuery(`meterboard_active_users{org="${orgs[1]!.id}",job="business-admin",window="7d"}`);
    const exactUsers = new Set(sent.get(orgs[1]!.id)!.filter((e) => e['user_id'] !== undefined).map((e) => e['user_id'])).size;
    expect(Number(users.data!.result[0]!.value[1])).toBe(exactUsers);
    const snapshot = await promQuery(`meterboard_snapshot_value{org="${orgs[1]!.id}",name="total_users",job="business-admin"}`);
    expect(Number(snapshot.data!.result[0]!.value[1])).toBe(42);
  });

  it('every expression of the Grafana dashboard and of the alert rules evaluates and returns data', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('deploy/grafana/meterboard.json', ROOT), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    const expressions = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ where: panel.title, expr: target.expr })));
    const rules = readFileSync(new URL('deploy/prometheus/meterboard.rules.yml', ROOT), 'utf8');
    for (const match of rules.matchAll(/^\s+expr: (.+)$/gm)) {
      const expr = match[1]!;
      expressions.push({ where: `rule ${expr}`, expr });
      // An alert's condition is empty while all is well; the quantity it compares must have data.
      expressions.push({ where: `rule quantity ${expr}`, expr: expr.replace(/\s*(>|<|>=|<=|==|!=)\s*[0-9.e-]+\s*$/, '') });
    }
    expect(expressions.length).toBeGreaterThanOrEqual(15);
    for (const { where, expr } of expressions) {
      const concrete = expr.replaceAll('$__rate_interval', '1m').replaceAll('$org', orgs.map((o) => o.id).join('|'));
      const answer = await promQuery(concrete);
      expect(answer.status, `${where}: ${answer.error ?? ''}`).toBe('success');
      if (!/\s(>|<)\s[0-9.e-]+\s*$/.test(concrete)) expect(answer.data!.result.length, `${where} returns no data`).toBeGreaterThan(0);
    }
    // The dashboard's organization variable: label_values(meterboard_pages_processed_total, org).
    const variable = (await (await fetch(`${promUrl}/api/v1/label/org/values?${new URLSearchParams({ 'match[]': 'meterboard_pages_processed_total' })}`)).json()) as { data: string[] };
    expect(variable.data.sort()).toEqual(orgs.map((o) => o.id).sort());
    // Everything is aggregated: no organization waits, on the keyed series and on /metrics.
    const waiting = await promQuery('max(meterboard_aggregation_lag_seconds) + max(meterboard_aggregation_max_lag_seconds) + max(meterboard_aggregation_organizations_waiting)');
    expect(Number(waiting.data!.result[0]!.value[1])).toBe(0);
    const stale = await promQuery('time() - max(meterboard_aggregation_last_success_timestamp_seconds)');
    expect(Number(stale.data!.result[0]!.value[1])).toBeLessThan(120);
  });

  it('a read key gets only its organization, no key gets 401, and /metrics holds no organization numbers', async () => {
    const [acme, globex] = orgs as [(typeof orgs)[0], (typeof orgs)[0]];
    const own = await fetch(`${base}/api/v1/orgs/${acme.id}/prometheus`, { headers: bearer(keys.get(acme.id)!.read) });
    expect(own.status).toBe(200);
    const text = await own.text();
    expect(text).toContain(`org="${acme.id}"`);
    expect(text).not.toContain(globex.id);
    expect((await fetch(`${base}/api/v1/orgs/${globex.id}/prometheus`, { headers: bearer(keys.get(acme.id)!.read) })).status).toBe(403);
    expect((await fetch(`${base}/api/v1/prometheus`, { headers: bearer(keys.get(acme.id)!.read) })).status).toBe(403);
    expect((await fetch(`${base}/api/v1/prometheus`)).status).toBe(401);
    expect((await fetch(`${base}/api/v1/orgs/${acme.id}/prometheus`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const health = await (await fetch(`${base}/metrics`, { headers: bearer(METRICS_TOKEN) })).text();
    expect(health).toContain('meterboard_aggregation_last_success_timestamp_seconds');
    for (const org of orgs) expect(health).not.toContain(org.id);
    expect(health).not.toMatch(/pages_processed|llm_usage|active_users/);
  });

  it('every exported name passes promtool check metrics', async () => {
    const all = await (await fetch(`${base}/api/v1/prometheus`, { headers: adminHeaders })).text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: all, encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });
});

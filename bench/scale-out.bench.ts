import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { BenchSection } from './report.ts';
import { BENCH_ADMIN_KEY, fmtInt, fmtMs, mark, withPgClient, type BenchOptions } from './support.ts';

/**
 * Issue 12, Build 4: scale-out as real OS processes from the compiled build (`node
 * bin/meterboard serve|worker`), first 1 `serve` + 2 `worker`, then 2 `serve` (the client
 * alternates between their ports) + 2 `worker`, each layout on a fresh PostgreSQL schema and
 * this benchmark's own Redis database. The client pushes batches at full speed for a fixed
 * time, then waits until no hour is dirty (every rollup written): the aggregation lag is the
 * time from the last acknowledged batch to that moment. The rollup totals read back through
 * `summary` must equal sums computed here from the events sent (the oracle).
 */

export interface ScaleOutSettings {
  /** Seconds of pushing per layout. */
  seconds: number;
  batchSize: number;
  /** Requests in flight in total (the same in both layouts, so only the server count differs). */
  concurrency: number;
  orgs: number;
  workers: number;
  /** AGGREGATE_EVERY of the workers. */
  aggregateEvery: string;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin/meterboard');
/** Redis database of this benchmark (tests use 0 with prefixes, the two-process test 9). */
const REDIS_DB = 10;
const HOUR = 3_600_000;
const LAG_DEADLINE_MS = 30 * 60_000;
const CHECKED_METRICS = ['pages_processed', 'llm_calls', 'llm_usage', 'requests', 'request_errors'] as const;
type Oracle = Record<(typeof CHECKED_METRICS)[number], number>;

interface Child {
  role: 'serve' | 'worker';
  process: ChildProcess;
  output: () => string;
}

interface LayoutFigures {
  serves: number;
  workers: number;
  events: number;
  pushSeconds: number;
  eventsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  failures: number;
  lagMs: number;
  /**
   * CPU seconds used during push + drain, per role (from /proc). PostgreSQL: the backends of this
   * layout alive at the end (a backend closed meanwhile is missed, so it is a lower bound).
   */
  cpu: { serve: number; worker: number; postgres: number };
  loadStart: number;
  loadEnd: number;
  oracleOk: boolean;
  mismatches: string[];
}

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

/** PostgreSQL backends of one layout (same machine: their CPU time is in /proc). */
async function backendPids(url: string, applicationName: string): Promise<number[]> {
  return withPgClient(url, async (client) => {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    return rows.map((row) => row.pid);
  });
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function start(role: Child['role'], env: Record<string, string>, cwd: string): Child {
  const child = spawn(process.execPath, [BIN, role], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const keep = (chunk: Buffer) => (text = (text + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { role, process: child, output: () => text };
}

async function stop(child: Child): Promise<void> {
  const p = child.process;
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((resolve) => p.once('exit', resolve));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(url: string, child: Child, deadlineMs = 120_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.process.exitCode !== null) throw new Error(`${child.role} exited (${child.process.exitCode}):\n${child.output()}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${child.role} did not answer ${url} in time:\n${child.output()}`);
}

async function clearRedis(url: string): Promise<void> {
  const redis = new Redis(url);
  try {
    for (const pattern of ['bull:*', 'meterboard:cache:*']) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

/** Deterministic batch n of an organization; events spread over the last 6 hours. */
function makeBatch(layout: number, org: string, n: number, size: number, now: number, oracle: Oracle): unknown[] {
  const events: unknown[] = [];
  for (let i = 0; i < size; i += 1) {
    const k = n * size + i;
    const id = `L${layout}-${n}-${i}`;
    const timestamp = new Date(now - ((k * 7919) % (6 * HOUR - 60_000)) - 1000).toISOString();
    switch (k % 4) {
      case 0:
      case 1: {
        const pages = (k % 13) + 1;
        oracle.pages_processed += pages;
        events.push({ id, type: 'page_usage', timestamp, pages, failed_pages: k % 3 });
        break;
      }
      case 2: {
        // Multiples of 1/8 add up exactly in binary floating point, whatever the order.
        const cost = ((k % 7) + 1) / 8;
        oracle.llm_calls += 1;
        oracle.llm_usage += cost;
        events.push({ id, type: 'llm_call', timestamp, model: 'gpt-4o', usage_type: 'llm', reason: 'extraction', input_tokens: 100 + (k % 50), output_tokens: 20, cost_usd: cost, latency_ms: 50 + (k % 400), status: 'success', user_id: `u${k % 97}` });
        break;
      }
      default: {
        const status = k % 20 === 3 ? 500 : 200;
        oracle.requests += 1;
        if (status >= 400) oracle.request_errors += 1;
        events.push({ id, type: 'api_request', timestamp, endpoint: '/v1/extract', method: 'POST', status_code: status, latency_ms: 10 + (k % 300), user_id: `u${k % 31}` });
      }
    }
  }
  return events;
}

async function runLayout(index: number, serves: number, settings: ScaleOutSettings, options: BenchOptions): Promise<LayoutFigures> {
  const schema = `bench_scaleout_${index}_${Math.random().toString(16).slice(2, 10)}`;
  const redisUrl = `${options.redisUrl.replace(/\/\d*$/, '')}/${REDIS_DB}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meterboard-scaleout-'));
  await withPgClient(options.pgUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  await clearRedis(redisUrl);
  const children: Child[] = [];
  const common = {
    // application_name marks this layout's PostgreSQL backends, whose CPU time is read from /proc.
    DATABASE_URL: `${options.pgUrl}${options.pgUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}&application_name=${schema}`,
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    ADMIN_KEY: BENCH_ADMIN_KEY,
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    AGGREGATE_EVERY: settings.aggregateEvery,
    RATE_LIMIT_PER_KEY: '1000000',
  };
  try {
    const servePorts: number[] = [];
    for (let i = 0; i < serves; i += 1) {
      const port = await freePort();
      servePorts.push(port);
      const child = start('serve', { ...common, PORT: String(port) }, dataDir);
      children.push(child);
      // The first one migrates the schema alone; the others start on a migrated database.
      if (i === 0) await waitFor(`http://127.0.0.1:${port}/health`, child);
    }
    for (const [i, port] of servePorts.entries()) await waitFor(`http://127.0.0.1:${port}/health`, children[i]!);
    for (let i = 0; i < settings.workers; i += 1) {
      const port = await freePort();
      const child = start('worker', { ...common, WORKER_PORT: String(port) }, dataDir);
      children.push(child);
      await waitFor(`http://127.0.0.1:${port}/health`, child);
    }
    const bases = servePorts.map((port) => `http://127.0.0.1:${port}`);
    const admin = { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' };
    const orgs: Array<{ id: string; key: string; oracle: Oracle; batches: number }> = [];
    for (let i = 0; i < settings.orgs; i += 1) {
      const id = `scale-${i}`;
      const created = await fetch(`${bases[0]}/api/v1/orgs`, { method: 'POST', headers: admin, body: JSON.stringify({ id, timezone: i % 2 === 0 ? 'UTC' : 'Europe/Zurich' }) });
      if (created.status !== 201) throw new Error(`creating ${id}: ${created.status} ${await created.text()}`);
      const key = await fetch(`${bases[0]}/api/v1/orgs/${id}/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ scope: 'ingest', name: 'scale-out bench' }) });
      if (key.status !== 201) throw new Error(`creating an ingest key of ${id}: ${key.status} ${await key.text()}`);
      const { key: secret } = (await key.json()) as { key: string };
      orgs.push({ id, key: secret, oracle: { pages_processed: 0, llm_calls: 0, llm_usage: 0, requests: 0, request_errors: 0 }, batches: 0 });
    }

    options.log(`  ${serves} serve + ${settings.workers} worker: pushing for ${settings.seconds} s, ${settings.concurrency} requests in flight`);
    const loadStart = os.loadavg()[0]!;
    const cpuBefore = children.map((c) => cpuSeconds(c.process.pid));
    const pgBefore = new Map((await backendPids(options.pgUrl, schema)).map((pid) => [pid, cpuSeconds(pid)]));
    const now = Date.now();
    const latencies: number[] = [];
    let sent = 0;
    let failures = 0;
    let request = 0;
    let lastAck = 0;
    const pushUntil = performance.now() + settings.seconds * 1000;
    const client = async () => {
      while (performance.now() < pushUntil) {
        const n = request++;
        const org = orgs[n % orgs.length]!;
        const batch = makeBatch(index, org.id, org.batches++, settings.batchSize, now, org.oracle);
        const base = bases[n % bases.length]!;
        const started = performance.now();
        const response = await fetch(`${base}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${org.key}`, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
        const result = (await response.json()) as { accepted?: number };
        const ended = performance.now();
        latencies.push(ended - started);
        lastAck = Math.max(lastAck, ended);
        if (response.status !== 200 || result.accepted !== batch.length) {
          failures += 1;
          if (failures === 1) options.log(`  unexpected answer ${response.status} ${JSON.stringify(result).slice(0, 300)}`);
        } else sent += batch.length;
      }
    };
    const pushStart = performance.now();
    await Promise.all(Array.from({ length: settings.concurrency }, client));
    const pushSeconds = (lastAck - pushStart) / 1000;

    // Aggregation lag: last ack → no dirty hour left (every rollup written and its marks cleared).
    let drainedAt = 0;
    await withPgClient(options.pgUrl, async (pgClient) => {
      const until = Date.now() + LAG_DEADLINE_MS;
      while (Date.now() < until) {
        const { rows } = await pgClient.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.dirty_hours`);
        if (Number(rows[0]!.n) === 0) {
          drainedAt = performance.now();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`aggregation did not catch up within ${LAG_DEADLINE_MS / 60_000} min`);
    });
    const cpuAfter = children.map((c) => cpuSeconds(c.process.pid));
    const cpu = { serve: 0, worker: 0, postgres: 0 };
    children.forEach((c, i) => (cpu[c.role] += cpuAfter[i]! - cpuBefore[i]!));
    cpu.postgres = (await backendPids(options.pgUrl, schema)).reduce((sum, pid) => sum + cpuSeconds(pid) - (pgBefore.get(pid) ?? 0), 0);
    const loadEnd = os.loadavg()[0]!;

    // Oracle: the rollup totals, read through `summary` on every serve process.
    const mismatches: string[] = [];
    const range = `start=${new Date(now - 8 * HOUR).toISOString()}&end=${new Date(now + HOUR).toISOString()}`;
    for (const org of orgs) {
      for (const base of bases) {
        const response = await fetch(`${base}/api/v1/orgs/${org.id}/summary?metric=${CHECKED_METRICS.join(',')}&${range}`, { headers: admin });
        const body = (await response.json()) as { summary?: Array<{ metric_name: string; total_value: number }> };
        for (const metric of CHECKED_METRICS) {
          const got = body.summary?.find((row) => row.metric_name === metric)?.total_value;
          if (got !== org.oracle[metric]) mismatches.push(`${org.id} ${metric}: rollups ${got}, sent ${org.oracle[metric]}`);
        }
      }
    }
    options.log(
      `  ${serves} serve: ${sent} events in ${pushSeconds.toFixed(1)} s = ${Math.round(sent / pushSeconds)}/s, lag ${Math.round(drainedAt - lastAck)} ms, ` +
        `cpu serve ${cpu.serve.toFixed(1)} s worker ${cpu.worker.toFixed(1)} s postgres ${cpu.postgres.toFixed(1)} s, load ${loadStart.toFixed(1)}→${loadEnd.toFixed(1)}, failures ${failures}, mismatches ${mismatches.length}`,
    );
    return {
      serves,
      workers: settings.workers,
      events: sent,
      pushSeconds,
      eventsPerSec: sent / pushSeconds,
      p50Ms: percentileOf(latencies, 50),
      p95Ms: percentileOf(latencies, 95),
      failures,
      lagMs: drainedAt - lastAck,
      cpu,
      loadStart,
      loadEnd,
      oracleOk: mismatches.length === 0 && failures === 0,
      mismatches,
    };
  } finally {
    for (const child of children.reverse()) await stop(child);
    await clearRedis(redisUrl).catch(() => undefined);
    if (options.keep) options.log(`  kept schema ${schema}`);
    else await withPgClient(options.pgUrl, (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function percentileOf(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The child processes run the compiled build; it is built here when missing. */
function ensureBuild(options: BenchOptions): void {
  if (existsSync(path.join(ROOT, 'dist/main.js'))) return;
  options.log('  dist/ missing: npm run build:server');
  const built = spawnSync('npm', ['run', 'build:server'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build:server failed');
}

export async function runScaleOutBench(settings: ScaleOutSettings, options: BenchOptions): Promise<BenchSection> {
  ensureBuild(options);
  const layouts: LayoutFigures[] = [];
  for (const [index, serves] of [1, 2].entries()) layouts.push(await runLayout(index, serves, settings, options));
  const [one, two] = layouts as [LayoutFigures, LayoutFigures];
  const rows = layouts.map((f) => [
    `${f.serves} serve + ${f.workers} worker`,
    fmtInt(f.events),
    fmtInt(f.eventsPerSec),
    `${fmtMs(f.p50Ms)} / ${fmtMs(f.p95Ms)}`,
    fmtMs(f.lagMs),
    `${f.cpu.serve.toFixed(1)} s / ${f.cpu.worker.toFixed(1)} s / ≥ ${f.cpu.postgres.toFixed(1)} s`,
    fmtInt(f.events / (f.cpu.serve + f.cpu.worker + f.cpu.postgres)),
    `${f.loadStart.toFixed(1)} → ${f.loadEnd.toFixed(1)}`,
    mark(f.oracleOk),
  ]);
  const perCoreDay = (f: LayoutFigures) => (f.events / (f.cpu.serve + f.cpu.worker + f.cpu.postgres)) * 86_400;
  const findings = [
    `CPU time is what the load does not distort much: ingest plus aggregation cost ${((1e6 * (one.cpu.serve + one.cpu.worker + one.cpu.postgres)) / one.events).toFixed(0)} µs and ${((1e6 * (two.cpu.serve + two.cpu.worker + two.cpu.postgres)) / two.events).toFixed(0)} µs of CPU per event (serve + worker + PostgreSQL backends), i.e. one core sustains ≈ ${(perCoreDay(one) / 1e6).toFixed(0)} and ${(perCoreDay(two) / 1e6).toFixed(0)} million events/day.`,
    `2 serve processes ingest ${(two.eventsPerSec / one.eventsPerSec).toFixed(2)}× the events/s of one (${fmtInt(two.eventsPerSec)} vs ${fmtInt(one.eventsPerSec)}), on ${os.cpus().length} cores shared by the client, PostgreSQL, Redis and the workers.`,
    `Aggregation lag after the last acknowledged batch: ${fmtMs(one.lagMs)} (1 serve) and ${fmtMs(two.lagMs)} (2 serve) for ${fmtInt(one.events)} and ${fmtInt(two.events)} events: the workers drain ${fmtInt(one.events / ((one.pushSeconds * 1000 + one.lagMs) / 1000))} and ${fmtInt(two.events / ((two.pushSeconds * 1000 + two.lagMs) / 1000))} events/s end to end (push + drain).`,
    ...layouts.flatMap((f) =>
      f.oracleOk
        ? [`${f.serves} serve: the rollup totals (${CHECKED_METRICS.join(', ')}) of all ${settings.orgs} organizations, read through summary on every serve process, equal the sums of the events sent.`]
        : [`${f.serves} serve: MISMATCH with the oracle (${f.failures} failed requests): ${f.mismatches.slice(0, 5).join('; ')}`],
    ),
  ];
  return {
    id: 'scale-out',
    scale: `real processes from the compiled build, one PostgreSQL schema + one Redis database per layout; ${settings.orgs} organizations, batches of ${fmtInt(settings.batchSize)} mixed events (page_usage, llm_call, api_request over the last 6 hours), ${settings.concurrency} requests in flight for ${settings.seconds} s (alternating between the serve ports), workers with AGGREGATE_EVERY=${settings.aggregateEvery}`,
    tables: [
      {
        header: ['layout', 'events', 'ingest events/s', 'request p50 / p95', 'aggregation lag (last ack → rollups complete)', 'CPU serve / worker / PostgreSQL', 'events per CPU-second', 'load avg (1 min)', 'rollups = oracle'],
        rows,
      },
    ],
    findings,
  };
}

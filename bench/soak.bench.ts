import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BenchSection } from './report.ts';
import { BENCH_ADMIN_KEY, fmtInt, fmtMb, fmtMs, mark, percentile, type BenchOptions } from './support.ts';

/**
 * Soak: one `meterboard serve` child process (embedded mode, loopback only) takes mixed ingest
 * and queries at a fixed rate for N minutes; errors, p99 latency and the server's RSS are
 * reported per interval. The request count is bounded by rate × duration.
 */

export interface SoakScale {
  minutes: number;
  /** Requests per second, ingest and queries together. */
  rate: number;
  /** Events per ingest batch. */
  batchSize: number;
}

interface Interval {
  requests: number;
  errors: number;
  latencies: number[];
  /** RSS at the end of the interval. */
  rssMb: number;
  /** Highest RSS sampled during the interval (every RSS_SAMPLE_MS, and at its end). */
  rssPeakMb: number;
  /** Latencies per kind of request (ingest, summary, …), to tell which one slows down. */
  byKind: Map<string, number[]>;
}

const newInterval = (): Interval => ({ requests: 0, errors: 0, latencies: [], rssMb: 0, rssPeakMb: 0, byKind: new Map() });

/** One end-of-minute sample can fall on a garbage collection's trough or peak; the peak of samples this often cannot. */
const RSS_SAMPLE_MS = 5_000;

function kindsLine(interval: Interval): string {
  return [...interval.byKind].map(([kind, values]) => `${kind} p99 ${fmtMs(percentile(values, 99))}`).join(', ');
}

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../bin/meterboard');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function rssMbOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function waitForReady(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('serve did not become ready within 60 s');
}

export async function runSoakBench(scale: SoakScale, options: BenchOptions): Promise<BenchSection> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meterboard-soak-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ADMIN_KEY: BENCH_ADMIN_KEY, LOG_LEVEL: 'warn', AGGREGATE_EVERY: '10s', DATABASE_URL: '', REDIS_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    await waitForReady(base, child);
    const admin = { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' };
    const orgId = 'soak';
    await fetch(`${base}/api/v1/orgs`, { method: 'POST', headers: admin, body: JSON.stringify({ id: orgId, name: 'Soak' }) });
    const keyOf = async (scope: string) =>
      ((await (await fetch(`${base}/api/v1/orgs/${orgId}/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ scope }) })).json()) as { key: string }).key;
    const ingestKey = await keyOf('ingest');
    const readKey = await keyOf('read');

    let sequence = 0;
    const batch = () =>
      Array.from({ length: scale.batchSize }, () => {
        sequence += 1;
        return {
          id: `soak-${sequence}`,
          type: sequence % 2 === 0 ? 'llm_call' : 'page_usage',
          timestamp: new Date(Date.now() - (sequence % 60) * 1000).toISOString(),
          model: 'gpt-4o-mini', input_tokens: sequence % 500, output_tokens: 20, pages: sequence % 7,
        };
      });
    const day = 86_400_000;
    const queryKinds = ['summary', 'series', 'live-summary', 'catalog'];
    const queries = [
      () => `/api/v1/orgs/${orgId}/summary?start=${new Date(Date.now() - day).toISOString()}&end=${new Date().toISOString()}`,
      () => `/api/v1/orgs/${orgId}/series?start=${new Date(Date.now() - 7 * day).toISOString()}&end=${new Date().toISOString()}&granularity=hour`,
      () => `/api/v1/orgs/${orgId}/live-summary?start=${new Date(Date.now() - 60_000).toISOString()}&end=${new Date().toISOString()}`,
      () => `/api/v1/orgs/${orgId}/metrics`,
    ];

    const intervalMs = 60_000;
    const intervals: Interval[] = [];
    let current: Interval = newInterval();
    const errorSamples: string[] = [];
    const total = Math.round(scale.minutes * 60 * scale.rate);
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    options.log(`  soak: ${fmtInt(total)} requests at ${scale.rate}/s for ${scale.minutes} min against ${base} (pid ${child.pid})`);
    const rssAtStart = rssMbOf(child.pid!);
    sampler = setInterval(() => {
      if (child.exitCode === null) current.rssPeakMb = Math.max(current.rssPeakMb, rssMbOf(child.pid!));
    }, RSS_SAMPLE_MS);

    for (let i = 0; i < total; i += 1) {
      const due = started + (i * 1000) / scale.rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const elapsedIntervals = Math.floor((performance.now() - started) / intervalMs);
      if (elapsedIntervals > intervals.length) {
        current.rssMb = rssMbOf(child.pid!);
        current.rssPeakMb = Math.max(current.rssPeakMb, current.rssMb);
        intervals.push(current);
        options.log(`  soak minute ${intervals.length}: ${current.requests} requests, ${current.errors} errors, p99 ${fmtMs(percentile(current.latencies, 99))}, RSS ${fmtMb(current.rssMb)} (peak ${fmtMb(current.rssPeakMb)}; ${kindsLine(current)})`);
        current = newInterval();
      }
      const bucket = current;
      const isIngest = i % 2 === 0;
      const kind = isIngest ? 'ingest' : queryKinds[(i >> 1) % queries.length]!;
      const t0 = performance.now();
      const request = (isIngest
        ? fetch(`${base}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' }, body: JSON.stringify(batch()) })
        : fetch(`${base}${queries[(i >> 1) % queries.length]!()}`, { headers: { authorization: `Bearer ${readKey}` } })
      )
        .then(async (response) => {
          const body = await response.text();
          if (!response.ok) {
            bucket.errors += 1;
            if (errorSamples.length < 5) errorSamples.push(`${response.status} ${body.slice(0, 200)}`);
          }
        })
        .catch((error: unknown) => {
          bucket.errors += 1;
          if (errorSamples.length < 5) errorSamples.push(String((error as { cause?: unknown }).cause ?? error));
        })
        .finally(() => {
          bucket.requests += 1;
          const ms = performance.now() - t0;
          bucket.latencies.push(ms);
          const ofKind = bucket.byKind.get(kind) ?? [];
          ofKind.push(ms);
          bucket.byKind.set(kind, ofKind);
          inFlight.delete(request);
        });
      inFlight.add(request);
    }
    await Promise.all(inFlight);
    clearInterval(sampler);
    current.rssMb = rssMbOf(child.pid!);
    current.rssPeakMb = Math.max(current.rssPeakMb, current.rssMb);
    if (current.requests > 0) intervals.push(current);

    const all = intervals.flatMap((interval) => interval.latencies);
    const errors = intervals.reduce((sum, interval) => sum + interval.errors, 0);
    const steady = intervals.slice(Math.min(1, intervals.length - 1));
    const spreadOf = (values: number[]) => {
      const min = Math.min(...values);
      const max = Math.max(...values);
      return { min, max, growth: (max - min) / min };
    };
    const peaks = spreadOf(steady.map((interval) => interval.rssPeakMb));
    const ends = spreadOf(steady.map((interval) => interval.rssMb));
    return {
      id: 'soak',
      scale: `${scale.minutes} min at ${scale.rate} requests/s (half ingest batches of ${scale.batchSize} events, half queries: summary, hourly series over 7 days, live summary over the last minute, catalog), one embedded \`serve\` (SQLite), aggregation every 10 s`,
      tables: [
        {
          header: ['minute', 'requests', 'errors', 'p50', 'p99', 'server RSS (end)', 'server RSS (peak)'],
          rows: intervals.map((interval, index) => [
            String(index + 1), fmtInt(interval.requests), fmtInt(interval.errors), fmtMs(percentile(interval.latencies, 50)),
            fmtMs(percentile(interval.latencies, 99)), fmtMb(interval.rssMb), fmtMb(interval.rssPeakMb),
          ]),
        },
      ],
      findings: [
        `${mark(errors === 0)} ${fmtInt(errors)} errors in ${fmtInt(all.length)} requests${errorSamples.length > 0 ? ` (first: ${errorSamples.join('; ')})` : ''}.`,
        `p99 over the whole run ${fmtMs(percentile(all, 99))}, p50 ${fmtMs(percentile(all, 50))}; ${fmtInt(sequence)} events ingested.`,
        `${mark(peaks.growth <= 0.1)} server RSS from minute 2 on: peaks per minute (sampled every ${RSS_SAMPLE_MS / 1000} s) between ${fmtMb(peaks.min)} and ${fmtMb(peaks.max)} (${(peaks.growth * 100).toFixed(1)} % spread); end-of-minute samples between ${fmtMb(ends.min)} and ${fmtMb(ends.max)} (${(ends.growth * 100).toFixed(1)} %); ${fmtMb(rssAtStart)} before the first request.`,
      ],
    };
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      if (child.exitCode !== null) resolve(null);
      else child.once('exit', resolve);
    });
    if (!options.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

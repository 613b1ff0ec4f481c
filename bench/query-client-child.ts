import http from 'node:http';
import { BENCH_ADMIN_KEY } from './support.ts';

/**
 * The query benchmark's HTTP client, in a process of its own (spawned by query.bench.ts), as a
 * service calling meterboard is: the orchestrating process holds the loaded history's garbage,
 * DuckDB and the raw baseline's connection, and timing requests from there put its own pauses
 * into the figures (a 30-day series measured 7.8 ms p95 from the orchestrator against 5.0–5.2 ms
 * from a process of its own, same server child and database). Sends `warmups` untimed requests,
 * then `runs` timed ones, sequentially over one keep-alive connection, rotating `paths`. Prints
 * one `RESULT {json}` line.
 */

export interface ClientChildInput {
  base: string;
  /** Request paths, taken in turn (one per organization). */
  paths: string[];
  warmups: number;
  runs: number;
}

export interface ClientChildResult {
  /** Milliseconds per timed request, in order: from sending it to its body's last byte. */
  times: number[];
  /** The same for the untimed warm-up requests before them (reported apart, never in the figures). */
  warmupTimes: number[];
  /** Size of the last response body. */
  bytes: number;
}

/**
 * node:http, not `fetch`: undici's web streams added 2–3 ms of p95 of their own, measured against
 * a server answering a fixed body (ADR 0018), which is the client's time, not the answer's.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(base: string, path: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.get(base + path, { agent, headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}` } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const ms = performance.now() - started;
        const body = Buffer.concat(chunks);
        if (response.statusCode !== 200) reject(new Error(`GET ${path} answered ${response.statusCode}: ${body.toString('utf8', 0, 300)}`));
        else resolve({ ms, bytes: body.length });
      });
    });
    request.on('error', reject);
  });
}

async function main(input: ClientChildInput): Promise<ClientChildResult> {
  let bytes = 0;
  const pathAt = (i: number) => input.paths[i % input.paths.length]!;
  const warmupTimes: number[] = [];
  for (let i = 0; i < input.warmups; i++) {
    const answer = await get(input.base, pathAt(i));
    warmupTimes.push(answer.ms);
    bytes = answer.bytes;
  }
  const times: number[] = [];
  for (let i = 0; i < input.runs; i++) {
    const answer = await get(input.base, pathAt(i));
    times.push(answer.ms);
    bytes = answer.bytes;
  }
  return { times, warmupTimes, bytes };
}

const input = JSON.parse(process.argv[2] ?? '{}') as ClientChildInput;
try {
  process.stdout.write(`RESULT ${JSON.stringify(await main(input))}\n`);
  process.exit(0);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { createContext, createHttpServer } from '../src/compose.ts';
import { createKey } from '../src/app/manage-orgs.ts';
import { aggregateDirtyBuckets } from '../src/app/aggregate.ts';

/**
 * CPU per request of the soak's queries with N events in the current hour, in one process
 * (embedded SQLite, requests through fastify's inject, no network), and of an aggregation pass
 * recomputing that hour. CPU time, not wall time, so a loaded machine distorts it little.
 * Not part of `npm run bench` (no report section): a diagnostic for docs/PERFORMANCE.md §7.
 *
 *   EVENTS=60000 REPS=10 node --import tsx bench/current-hour-cpu.ts
 *   node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx bench/current-hour-cpu.ts
 */

const EVENTS = Number(process.env['EVENTS'] ?? 60_000);
const REPS = Number(process.env['REPS'] ?? 10);
const DAY = 86_400_000;
const HOUR = 3_600_000;

const dataDir = mkdtempSync(path.join(tmpdir(), 'meterboard-current-hour-'));
const config = loadConfig({ DATA_DIR: dataDir, ADMIN_KEY: 'current-hour-bench-admin-key-0123456789', LOG_LEVEL: 'warn', AGGREGATE_EVERY: '1h', CONFIG_FILE: undefined }, dataDir);
const handle = await createContext(config, { processMetrics: false });
const app = createHttpServer(handle.ctx, { logger: false });
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
try {
  const orgId = 'soak';
  await handle.ctx.orgStore.createOrg({ id: orgId, name: 'Soak', timezone: 'UTC' }, Date.now());
  const ingestKey = (await createKey(handle.ctx, { orgId, scope: 'ingest', name: 'bench' })).secret;
  const readKey = (await createKey(handle.ctx, { orgId, scope: 'read', name: 'bench' })).secret;
  const now = Date.now();
  const hourStart = Math.floor(now / HOUR) * HOUR;
  // The soak's events (bench/soak.bench.ts), spread over the part of the current hour already past.
  for (let sent = 0; sent < EVENTS; sent += 500) {
    const batch = Array.from({ length: Math.min(500, EVENTS - sent) }, (_, i) => {
      const sequence = sent + i + 1;
      return {
        id: `soak-${sequence}`,
        type: sequence % 2 === 0 ? 'llm_call' : 'page_usage',
        timestamp: new Date(hourStart + (sequence % Math.max(1, now - hourStart))).toISOString(),
        model: 'gpt-4o-mini', input_tokens: sequence % 500, output_tokens: 20, pages: sequence % 7,
      };
    });
    const response = await app.inject({ method: 'POST', url: '/api/v1/events', headers: { authorization: `Bearer ${ingestKey}` }, payload: batch });
    if (response.statusCode >= 300) throw new Error(`ingest: ${response.statusCode} ${response.body}`);
  }
  // Each request ends a millisecond later than the one before, so none is answered from the cache.
  const queries: Record<string, (i: number) => string> = {
    'summary over 24 h': (i) => `/api/v1/orgs/${orgId}/summary?start=${new Date(now - DAY + i).toISOString()}&end=${new Date(now + i).toISOString()}`,
    'hourly series over 7 days': (i) => `/api/v1/orgs/${orgId}/series?start=${new Date(now - 7 * DAY + i).toISOString()}&end=${new Date(now + i).toISOString()}&granularity=hour`,
  };
  for (const [label, url] of Object.entries(queries)) {
    const since = process.cpuUsage();
    for (let i = 1; i <= REPS; i++) {
      const response = await app.inject({ method: 'GET', url: url(i), headers: { authorization: `Bearer ${readKey}` } });
      if (response.statusCode !== 200) throw new Error(`${label}: ${response.statusCode} ${response.body}`);
    }
    console.log(`${label}: ${(cpuMs(since) / REPS).toFixed(1)} ms CPU per request, ${EVENTS} events in the current hour`);
  }
  for (let pass = 1; pass <= 3; pass++) {
    await handle.ctx.dirtyQueue.markDirty(orgId, [hourStart]);
    const since = process.cpuUsage();
    await aggregateDirtyBuckets(handle.ctx);
    console.log(`aggregation pass ${pass} (the current hour): ${cpuMs(since).toFixed(1)} ms CPU`);
  }
  console.log(`RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
} finally {
  await app.close();
  await handle.close();
  rmSync(dataDir, { recursive: true, force: true });
}

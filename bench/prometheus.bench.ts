import { seedDemo } from '../src/app/seed-demo.ts';
import { createBusinessExport } from '../src/prometheus/business-export.ts';
import { prometheusSettings } from '../src/prometheus/settings.ts';
import type { BenchSection } from './report.ts';
import { createBenchContext, createBenchDatabase, fmtInt, fmtMs, mark, noCache, percentile, timed, type BenchOptions, type Engine } from './support.ts';

/**
 * Issue 12: a scrape of GET /api/v1/prometheus for 100 organizations × the built-in catalog,
 * measured on the use case the route calls (HTTP adds ~0.1 ms). Cold = first scrape after an
 * aggregation pass (every organization recomputed from the rollups); warm = the scrapes until
 * the next pass (data versions unchanged: versions read, cached text reused).
 */

export interface PrometheusBenchSettings {
  orgs: number;
  days: number;
  eventsPerDay: number;
  scrapes: number;
}

const GOAL_MS = 50;

export async function runPrometheusBench(engines: readonly Engine[], settings: PrometheusBenchSettings, options: BenchOptions): Promise<BenchSection> {
  const rows: string[][] = [];
  const findings: string[] = [];
  for (const engine of engines) {
    const db = await createBenchDatabase(engine, 'prom', options);
    try {
      const ctx = createBenchContext(db.storage, noCache);
      options.log(`  ${engine}: seeding ${settings.orgs} orgs × ${settings.days} days × ${settings.eventsPerDay} events/day`);
      await seedDemo(ctx, { orgs: settings.orgs, days: settings.days, eventsPerDay: settings.eventsPerDay, aggregate: true });
      const exporter = createBusinessExport(ctx, prometheusSettings(ctx.config, ctx.metrics));
      const cold = await timed(() => exporter.renderAll());
      const warm: number[] = [];
      // CPU of this process per warm scrape: the work itself, which the machine's load does not inflate much.
      const cpuStart = process.cpuUsage();
      for (let i = 0; i < settings.scrapes; i += 1) warm.push((await timed(() => exporter.renderAll())).ms);
      const cpu = process.cpuUsage(cpuStart);
      const cpuMs = (cpu.user + cpu.system) / 1000 / settings.scrapes;
      const lines = cold.result.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
      const p50 = percentile(warm, 50);
      const p95 = percentile(warm, 95);
      rows.push([engine, fmtInt(settings.orgs), fmtInt(lines), `${Math.round(cold.result.length / 1024)} KB`, fmtMs(cold.ms), fmtMs(p50), fmtMs(p95), fmtMs(cpuMs), mark(p95 <= GOAL_MS)]);
      findings.push(`${engine}: a scrape between two passes takes ${fmtMs(p95)} (p95 of ${settings.scrapes}; ${fmtMs(cpuMs)} of this process's CPU each) for ${settings.orgs} organizations and ${fmtInt(lines)} samples; the first scrape after a pass recomputes every organization in ${fmtMs(cold.ms)}.`);
    } finally {
      await db.dispose();
    }
  }
  return {
    id: 'prometheus',
    scale: `${settings.orgs} organizations × the built-in catalog, ${settings.days} days × ${settings.eventsPerDay} demo events per day each`,
    tables: [{ header: ['engine', 'orgs', 'samples', 'body', 'first scrape after a pass', 'scrape p50', 'scrape p95', 'CPU per scrape (Node)', `≤ ${GOAL_MS} ms (p95)`], rows }],
    findings,
  };
}

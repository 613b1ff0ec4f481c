import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import { createContext, createHttpServer, createScheduler, webIsBuilt } from '../compose.ts';
import cliProgress from 'cli-progress';
import { embeddedLeaseHolder, setProcessLeaseHolder } from '../app/lease-holder.ts';
import { evaluateAlertsAfter } from '../alerts/app/after-aggregation.ts';
import { seedDemo, type SeedDemoResult } from '../app/seed-demo.ts';
import { bindJobs } from '../worker/bind-jobs.ts';
import { runWorker } from '../worker/run-worker.ts';
import { DEMO_DAYS, DEMO_ORGS } from './demo-defaults.ts';
import { buildHealthServer } from '../http/server.ts';
import type { Logger } from '../ports/logger.ts';

/** The long-running commands' work, imported by serve-commands.ts only when one of them runs. */

/** Resolves on the first SIGTERM/SIGINT. */
export function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => resolve(signal);
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
}


function adminKeyFile(config: Readonly<Config>): string {
  return path.join(config.dataDir, 'admin-key');
}

/** The key `npm start` printed, when `serve` runs on the same data directory without ADMIN_KEY. */
export function persistedAdminKey(config: Readonly<Config>): Readonly<Config> {
  if (config.adminKey || config.mode !== 'embedded' || !existsSync(adminKeyFile(config))) return config;
  const key = readFileSync(adminKeyFile(config), 'utf8').trim();
  return key.length >= 16 ? Object.freeze({ ...config, adminKey: key }) : config;
}

/** The demo's admin key: ADMIN_KEY when set, else one generated once and kept in DATA_DIR. */
export function demoAdminKey(config: Readonly<Config>): string {
  if (config.adminKey) return config.adminKey;
  const file = adminKeyFile(config);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const key = `mb_admin_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

export interface ServeOptions {
  seedDemoWhenEmpty: boolean;
  demoEventsPerDay: number;
}

/** Demo data with a progress bar on a terminal (a line per organization otherwise), then one summary. */
async function loadDemoWithProgress(ctx: Awaited<ReturnType<typeof createContext>>['ctx'], eventsPerDay: number): Promise<SeedDemoResult> {
  const orgs = DEMO_ORGS;
  const total = DEMO_DAYS * eventsPerDay * orgs;
  process.stdout.write(`Empty database: loading ${DEMO_DAYS} days of demo data for ${orgs} organizations (first start only)…\n`);
  const tty = process.stdout.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({ format: '{bar} {percentage}% | {value}/{total} events | {org}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(total, 0, { org: '' });
  const doneBefore = new Map<string, number>();
  let lastOrg = '';
  // The bar and the summary say what happens; per-organization and aggregation info lines
  // would only interleave with them (warnings and errors still go to the log).
  const quiet: Logger = { info: () => undefined, debug: () => undefined, warn: (o, m) => ctx.log.warn(o, m), error: (o, m) => ctx.log.error(o, m) };
  const seeded = await seedDemo({ ...ctx, log: quiet }, {
    days: DEMO_DAYS,
    orgs,
    eventsPerDay,
    aggregatePass: (pass) => evaluateAlertsAfter(ctx, pass),
    onProgress: (p) => {
      doneBefore.set(p.orgId, p.done);
      const done = [...doneBefore.values()].reduce((a, b) => a + b, 0);
      bar?.update(done, { org: p.orgId });
      if (!tty && p.orgId !== lastOrg) process.stdout.write(`  loading ${p.orgId}…\n`);
      lastOrg = p.orgId;
    },
  }).finally(() => bar?.stop());
  return seeded;
}

export async function serve(config: Readonly<Config>, options: ServeOptions): Promise<void> {
  // The only process of its data directory: after a crash it takes its own leases back at once.
  if (config.mode === 'embedded') setProcessLeaseHolder(embeddedLeaseHolder(hostname(), config.dataDir));
  const handle = await createContext(config);
  const { ctx } = handle;
  const scheduler = createScheduler(ctx, 'producer');
  // Server mode: admin "aggregate now" and time-zone rebuilds are queued for the workers.
  const app = createHttpServer(ctx, config.mode === 'server' ? { jobs: scheduler } : {});
  try {
    if (options.seedDemoWhenEmpty && (await ctx.orgStore.listOrgs()).length === 0) {
      const seeded = await loadDemoWithProgress(ctx, options.demoEventsPerDay);
      process.stdout.write(
        `Loaded ${seeded.accepted.toLocaleString('en-US')} demo events for ${seeded.orgs.length} organizations ` +
          `(${seeded.orgs.map((o) => o.id).join(', ')}; ${DEMO_DAYS} days) in ${(seeded.durationMs / 1000).toFixed(1)} s.\n`,
      );
    }
    if (!webIsBuilt()) ctx.log.warn({}, 'web/dist is missing: run `npm run build:web` to get the dashboard');
    // Embedded mode runs the registry's jobs in this process; in server mode the workers own
    // the schedules and this process only submits run-now jobs.
    await scheduler.start(bindJobs(ctx));
    const address = await app.listen({ port: config.port, host: config.host });
    ctx.log.info({ address, mode: config.mode }, 'meterboard listening');
    if (options.seedDemoWhenEmpty && config.adminKey) {
      // The same key keeps working for `meterboard serve` on this data directory (kept in DATA_DIR/admin-key).
      const shown = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
      process.stdout.write(`\nmeterboard is running at ${shown}\nadmin key: ${config.adminKey}\n\n`);
    }
    const signal = await shutdownSignal();
    ctx.log.info({ signal }, 'shutting down: finishing in-flight requests');
  } finally {
    await app.close();
    await scheduler.stop().catch((error: unknown) => ctx.log.error({ err: error }, 'stopping the scheduler failed'));
    await handle.close();
  }
}

export async function worker(config: Readonly<Config>): Promise<void> {
  if (config.mode !== 'server') {
    throw new Error('`meterboard worker` needs DATABASE_URL and REDIS_URL (server mode); embedded `serve` runs the jobs itself');
  }
  const handle = await createContext(config);
  const scheduler = createScheduler(handle.ctx, 'worker');
  const running = await runWorker(handle.ctx, { scheduler });
  // Job health of this process for Prometheus (/metrics) and orchestrators (/health).
  const health = buildHealthServer(handle.ctx);
  const address = await health.listen({ port: config.workerPort, host: config.host });
  handle.ctx.log.info({ address }, 'worker health server listening');
  await shutdownSignal();
  await health.close();
  await running.stop();
  await handle.close();
}

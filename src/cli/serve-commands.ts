import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/config.ts';
import { createContext, createHttpServer, createScheduler, webIsBuilt } from '../compose.ts';
import { seedDemo } from '../app/seed-demo.ts';
import { bindJobs } from '../worker/bind-jobs.ts';
import { runWorker } from '../worker/run-worker.ts';

/** Resolves on the first SIGTERM/SIGINT. */
function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => resolve(signal);
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
}

/** The demo's admin key: ADMIN_KEY when set, else one generated once and kept in DATA_DIR. */
function demoAdminKey(config: Readonly<Config>): string {
  if (config.adminKey) return config.adminKey;
  const file = path.join(config.dataDir, 'admin-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const key = `mb_admin_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

interface ServeOptions {
  seedDemoWhenEmpty: boolean;
  demoEventsPerDay: number;
}

async function serve(config: Readonly<Config>, options: ServeOptions): Promise<void> {
  const handle = await createContext(config);
  const { ctx } = handle;
  const scheduler = createScheduler(ctx, 'producer');
  // Server mode: admin "aggregate now" and time-zone rebuilds are queued for the workers.
  const app = createHttpServer(ctx, config.mode === 'server' ? { jobs: scheduler } : {});
  try {
    if (options.seedDemoWhenEmpty && (await ctx.orgStore.listOrgs()).length === 0) {
      ctx.log.info({}, 'empty database: loading demo data (30 days, 3 organizations)');
      const seeded = await seedDemo(ctx, { days: 30, orgs: 3, eventsPerDay: options.demoEventsPerDay });
      ctx.log.info({ accepted: seeded.accepted, durationMs: seeded.durationMs }, 'demo data loaded');
    }
    if (!webIsBuilt()) ctx.log.warn({}, 'web/dist is missing: run `npm run build:web` to get the dashboard');
    // Embedded mode runs the registry's jobs in this process; in server mode the workers own
    // the schedules and this process only submits run-now jobs.
    await scheduler.start(bindJobs(ctx));
    const address = await app.listen({ port: config.port, host: config.host });
    ctx.log.info({ address, mode: config.mode }, 'meterboard listening');
    if (options.seedDemoWhenEmpty && config.adminKey) {
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

/** `serve`, `worker` and the hidden `start-demo` behind `npm start`. */
export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('run the API and dashboard (embedded mode also runs the scheduled jobs)')
    .action(async () => {
      await serve(loadConfig(process.env), { seedDemoWhenEmpty: false, demoEventsPerDay: 0 });
    });

  program
    .command('start-demo', { hidden: true })
    .description('serve, loading demo data first when the database is empty (npm start)')
    .option('--events-per-day <n>', 'demo events per organization and day', '2000')
    .action(async (options: { eventsPerDay: string }) => {
      const base = loadConfig(process.env);
      const config = Object.freeze({ ...base, adminKey: demoAdminKey(base) });
      await serve(config, { seedDemoWhenEmpty: true, demoEventsPerDay: Number(options.eventsPerDay) || 2000 });
    });

  program
    .command('worker')
    .description('consume scheduled jobs (aggregation, retention, reports) from Redis (server mode)')
    .action(async () => {
      const config = loadConfig(process.env);
      if (config.mode !== 'server') {
        throw new Error('`meterboard worker` needs DATABASE_URL and REDIS_URL (server mode); embedded `serve` runs the jobs itself');
      }
      const handle = await createContext(config);
      const scheduler = createScheduler(handle.ctx, 'worker');
      const worker = await runWorker(handle.ctx, { scheduler });
      await shutdownSignal();
      await worker.stop();
      await handle.close();
    });
}

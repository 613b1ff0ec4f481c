import type { Command } from 'commander';
import { DEMO_EVENTS_PER_DAY } from './demo-defaults.ts';

/** The server and every driver load only when one of these commands runs (`--help` stays fast). */
const work = async () => ({ ...(await import('./serve.ts')), ...(await import('../config/config.ts')) });

/** `serve`, `worker` and the hidden `start-demo` behind `npm start`. */
export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('run the API and dashboard (embedded mode also runs the scheduled jobs)')
    .action(async () => {
      const { serve, loadConfig, persistedAdminKey } = await work();
      await serve(persistedAdminKey(loadConfig(process.env)), { seedDemoWhenEmpty: false, demoEventsPerDay: 0 });
    });

  program
    .command('start-demo', { hidden: true })
    .description('serve, loading demo data first when the database is empty (npm start)')
    .option('--events-per-day <n>', 'demo events per organization and day', String(DEMO_EVENTS_PER_DAY))
    .action(async (options: { eventsPerDay: string }) => {
      const { demoAdminKey, serve, loadConfig } = await work();
      const base = loadConfig(process.env);
      const config = Object.freeze({ ...base, adminKey: demoAdminKey(base) });
      await serve(config, { seedDemoWhenEmpty: true, demoEventsPerDay: Number(options.eventsPerDay) || DEMO_EVENTS_PER_DAY });
    });

  program
    .command('worker')
    .description('consume scheduled jobs (aggregation, retention, reports) from Redis (server mode)')
    .action(async () => {
      const { worker, loadConfig } = await work();
      await worker(loadConfig(process.env));
    });
}

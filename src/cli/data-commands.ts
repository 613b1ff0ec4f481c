import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { BackfillProgress, RangeBound } from '../app/backfill.ts';
import { NotFoundError } from '../domain/errors.ts';
import { UsageError } from './exit.ts';
import { parsePositiveInt, parseRangeBoundOption } from './parse.ts';
import { cliConfig, printJson, withContext } from './context.ts';
import { DEMO_DAYS, DEMO_EVENTS_PER_DAY, DEMO_ORGS } from './demo-defaults.ts';

const DAY_MS = 86_400_000;

/** A progress bar on stderr (stdout stays parseable): buckets done/total, rate, ETA. */
function progressBar(enabled: boolean): { update(p: BackfillProgress): void; stop(): void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: '{bar} {percentage}% | {value}/{total} hour buckets | {rate}/s | ETA {eta_formatted} | {org}', stream: process.stderr, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const startedAt = performance.now();
  return {
    update(p) {
      const rate = Math.round(p.done / Math.max(0.001, (performance.now() - startedAt) / 1000));
      if (!started) {
        bar.start(p.total, p.done, { org: p.orgId, rate });
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, { org: p.orgId, rate });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

interface RangeOptions {
  from?: string;
  to?: string;
  days?: string;
  org?: string;
}

function resolveRange(options: RangeOptions, now: number, requireRange: boolean): { from?: RangeBound; to?: RangeBound } {
  if (options.days !== undefined && (options.from !== undefined || options.to !== undefined)) {
    throw new UsageError('use either --days or --from/--to, not both');
  }
  if (options.days !== undefined) {
    const days = parsePositiveInt('days', options.days, 1);
    return { from: now - days * DAY_MS, to: now };
  }
  const from = parseRangeBoundOption('from', options.from);
  const to = parseRangeBoundOption('to', options.to);
  if (requireRange && from === undefined && to === undefined) throw new UsageError('give --days N or --from/--to');
  // Two dates or two instants compare here; a date against an instant depends on each organization's zone (checked by the backfill).
  const key = (bound: RangeBound) => (typeof bound === 'number' ? bound : bound.localDate);
  if (from !== undefined && to !== undefined && typeof from === typeof to && key(from) >= key(to)) throw new UsageError('--from must be before --to');
  return { from, to };
}

/** `migrate`, `aggregate`, `backfill`, `cleanup`, `seed-demo`. */
export function registerDataCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      await withContext(async () => undefined); // createContext migrates
      process.stdout.write('migrations applied\n');
    });

  program
    .command('aggregate')
    .description('run one aggregation pass now, or recompute a range')
    .option('--from <date>', "start of the range (ISO 8601; a bare date is that day's start in the organization's zone)")
    .option('--to <date>', 'end of the range, exclusive (ISO 8601; a bare date as for --from)')
    .option('--org <id>', 'only this organization')
    .action(async (options: RangeOptions) => {
      const range = resolveRange(options, Date.now(), false);
      const bar = progressBar(range.from !== undefined && process.stderr.isTTY === true);
      try {
        printJson(
          await withContext(async (ctx) => {
            if (options.org !== undefined && !(await ctx.orgStore.getOrg(options.org))) throw new NotFoundError(`organization "${options.org}" not found`);
            const pass = async () => (await import('../app/backfill.ts')).aggregateRange(ctx, { ...range, orgId: options.org, onProgress: (p) => bar.update(p) });
            const { evaluateAlertsAfter, evaluateOrgAlertsAfter } = await import('../alerts/app/after-aggregation.ts');
            // A pass over the dirty marks, like the scheduled one: the rules of the organizations it touched are evaluated too.
            if (range.from === undefined && range.to === undefined) return evaluateAlertsAfter(ctx, pass);
            // A range is a backfill: it drains the marks it sets, so name its organizations.
            const orgIds = options.org === undefined ? (await ctx.orgStore.listOrgs()).map((org) => org.id) : [options.org];
            return evaluateOrgAlertsAfter(ctx, orgIds, pass);
          }),
        );
      } finally {
        bar.stop();
      }
    });

  program
    .command('backfill')
    .description('recompute rollups from raw events (resumable: safe to interrupt and re-run)')
    .option('--days <n>', 'the last N days')
    .option('--from <date>', "start of the range (ISO 8601; a bare date is that day's start in the organization's zone)")
    .option('--to <date>', 'end of the range, exclusive (ISO 8601; a bare date as for --from)')
    .option('--org <id>', 'only this organization')
    .option('--dry-run', 'show what would be recomputed')
    .option('--skip-hourly', 'do not rewrite hour rollups')
    .option('--skip-daily', 'do not rewrite day rollups')
    .option('--skip-weekly', 'do not rewrite week rollups')
    .option('--skip-monthly', 'do not rewrite month rollups')
    .action(async (options: RangeOptions & { dryRun?: boolean; skipHourly?: boolean; skipDaily?: boolean; skipWeekly?: boolean; skipMonthly?: boolean }) => {
      const range = resolveRange(options, Date.now(), true);
      const bar = progressBar(!options.dryRun);
      const config = await cliConfig();
      const rawRetentionMs = config.retention.rawMs;
      try {
        const result = await withContext(async (ctx) => {
          const pass = async () =>
            (await import('../app/backfill.ts')).backfill(ctx, {
              orgId: options.org,
              from: range.from ?? Date.now() - rawRetentionMs,
              to: range.to ?? Date.now(),
              dryRun: options.dryRun === true,
              skip: { hourly: options.skipHourly, daily: options.skipDaily, weekly: options.skipWeekly, monthly: options.skipMonthly },
              onProgress: (p) => bar.update(p),
            });
          if (options.dryRun === true) return pass();
          // The backfill drains the marks it sets, so no later pass would evaluate these organizations' rules.
          const orgIds = options.org === undefined ? (await ctx.orgStore.listOrgs()).map((org) => org.id) : [options.org];
          return (await import('../alerts/app/after-aggregation.ts')).evaluateOrgAlertsAfter(ctx, orgIds, pass);
        }, config);
        bar.stop();
        printJson(result);
      } finally {
        bar.stop();
      }
    });

  program
    .command('cleanup')
    .description('apply retention (raw events, hour, day, week, month rollups)')
    .option('--dry-run', 'count what would be deleted')
    .action(async (options: { dryRun?: boolean }) => {
      const result = await withContext(async (ctx) => (await import('../app/apply-retention.ts')).applyRetention(ctx, { dryRun: options.dryRun === true }));
      // Cut-offs as instants a person can read; null = the tier is kept forever.
      const cutoffs = Object.fromEntries(Object.entries(result.cutoffs).map(([tier, at]) => [tier, at === null ? null : new Date(at).toISOString()]));
      printJson({ ...result, cutoffs });
    });

  program
    .command('seed-demo')
    .description('generate realistic demo events through the ingest path, then aggregate')
    // The same demo as `npm start`: enough days that "vs 30 days" has data.
    .option('--days <n>', 'days of history', String(DEMO_DAYS))
    .option('--orgs <n>', 'organizations', String(DEMO_ORGS))
    .option('--events-per-day <n>', 'events per organization and day', String(DEMO_EVENTS_PER_DAY))
    .action(async (options: { days: string; orgs: string; eventsPerDay: string }) => {
      const input = {
        days: parsePositiveInt('days', options.days, DEMO_DAYS),
        orgs: parsePositiveInt('orgs', options.orgs, DEMO_ORGS),
        eventsPerDay: parsePositiveInt('events-per-day', options.eventsPerDay, DEMO_EVENTS_PER_DAY),
      };
      const result = await withContext(async (ctx) => {
        const { evaluateAlertsAfter } = await import('../alerts/app/after-aggregation.ts');
        // The final pass drains the seeded hours: the rules of the organizations it touched are evaluated too.
        return (await import('../app/seed-demo.ts')).seedDemo(ctx, { ...input, aggregatePass: (pass) => evaluateAlertsAfter(ctx, pass) });
      });
      printJson({ orgs: result.orgs.map((o) => ({ id: o.id, timezone: o.timezone, accepted: o.accepted, duplicates: o.duplicates })), accepted: result.accepted, duplicates: result.duplicates, rejected: result.rejected, duration_ms: result.durationMs });
    });
}

import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { pullDepsOf } from '../sources/pull-job.ts';
import { pullSources, type PullProgress } from '../sources/pull-sources.ts';
import { listSources, sourcesStatus } from '../sources/source-status.ts';
import { parseInstantOption } from './parse.ts';
import { cliConfig, printJson, withContext } from './context.ts';

/** A bar on stderr for tables read from scratch (the first pull knows how many rows there are). */
function pullProgressBar(enabled: boolean): { update(p: PullProgress): void; stop(): void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bars = new cliProgress.MultiBar(
    { format: '{bar} {percentage}% | {value}/{total} rows | {source} {table}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  const byTable = new Map<string, cliProgress.SingleBar>();
  return {
    update(p) {
      if (p.total === null) return;
      const key = `${p.source}/${p.table}`;
      let bar = byTable.get(key);
      if (bar === undefined) {
        bar = bars.create(Math.max(p.total, 1), 0, { source: p.source, table: p.table });
        byTable.set(key, bar);
      }
      bar.update(Math.min(p.read, Math.max(p.total, 1)));
    },
    stop: () => bars.stop(),
  };
}

/** `sources list | status | pull` (SPEC §7), thin over src/sources. */
export function registerSourcesCommands(program: Command): void {
  const sources = program.command('sources').description('SQL sources pulled into meterboard (the `sources` of meterboard.config.json)');

  sources
    .command('list')
    .description('the configured sources (passwords hidden)')
    .action(async () => {
      printJson(listSources((await cliConfig()).sources));
    });

  sources
    .command('status')
    .description("each source's last pull, lag, rows read, rejections and last error")
    .action(async () => {
      printJson(await withContext((ctx) => sourcesStatus({ sources: ctx.config.sources, state: ctx.sources.state, clock: ctx.clock })));
    });

  sources
    .command('pull')
    .description('pull now: every source, or one with --name (a first pull shows a progress bar)')
    .option('--name <name>', 'only this source')
    .option('--since <date>', 're-read rows changed since this date (ISO 8601); duplicates are ignored')
    .action(async (options: { name?: string; since?: string }) => {
      const since = parseInstantOption('since', options.since);
      const bar = pullProgressBar(process.stderr.isTTY === true);
      const results = await withContext(async (ctx) => {
        try {
          return await pullSources(pullDepsOf(ctx), { name: options.name, since, force: true, onProgress: (p) => bar.update(p) });
        } finally {
          bar.stop();
        }
      });
      printJson(results);
      const failed = results.filter((result) => !result.ok);
      if (failed.length > 0) throw new Error(`${failed.map((result) => `${result.source}: ${result.error}`).join('; ')}`);
    });
}

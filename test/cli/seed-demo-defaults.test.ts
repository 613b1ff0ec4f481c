import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';
import { withContext } from '../../src/cli/context.ts';
import { compare } from '../../src/app/query/compare.ts';
import { loadConfig } from '../../src/config/config.ts';

/**
 * `meterboard seed-demo` without --days loads the same span as `npm start`'s demo (≥ 45 days),
 * so yesterday's "vs 30 days" has a day to compare with instead of N/A everywhere. Run
 * in-process on an embedded data directory, with few events per day to stay quick.
 */

const DAY = 86_400_000;

describe('seed-demo defaults (sqlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meterboard-seed-demo-'));
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('yesterday compares with 30 days before it', async () => {
    const configFile = join(dir, 'meterboard.config.json');
    writeFileSync(configFile, '{}');
    const env: NodeJS.ProcessEnv = { ...saved, DATA_DIR: dir, CONFIG_FILE: configFile, LOG_LEVEL: 'silent' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_KEY', 'SMTP_URL']) delete env[name];
    process.env = env;
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await buildProgram().parseAsync(['node', 'meterboard', 'seed-demo', '--orgs', '1', '--events-per-day', '40']);
    } finally {
      stdout.mockRestore();
    }
    const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
    const answer = await withContext(async (ctx) => compare(ctx, { orgId: 'acme', date: yesterday, tz: 'UTC' }), loadConfig(env, dir));
    const metrics = (JSON.parse(answer.body.toString('utf8')) as { metrics: Array<{ metric_name: string; comparisons: Record<'30', { previous: number | null }> }> }).metrics;
    const withHistory = metrics.filter((m) => m.comparisons['30'].previous !== null).map((m) => m.metric_name);
    expect(withHistory).toEqual(expect.arrayContaining(['pages_processed', 'llm_calls']));
  }, 120_000);
});

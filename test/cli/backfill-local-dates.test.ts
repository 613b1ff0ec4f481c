import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backfill } from '../../src/app/backfill.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { makeOrg } from '../factories/org.ts';
import { createAggregationContext, ENGINES, type AggregationTestContext } from '../aggregation/support.ts';

/**
 * A bare date in `backfill --from/--to` is that day in the organization's zone, as the API reads
 * dates (SPEC §4). Read as UTC, `--from 2026-11-30 --to 2026-12-01` for Europe/Zurich started
 * an hour into the local 30th and ended an hour into the local 1st, so the widening to whole
 * local days recomputed two days (48 hours, two months). Oracle: the local 30 November 2026
 * (no daylight-saving change) is 24 hours, one day, one ISO week, one month.
 */

const ONE_LOCAL_DAY = { hour: 24, day: 1, week: 1, month: 1 };

describe.each(ENGINES)('backfill with bare dates reads them in the organization zone (%s)', (engine) => {
  let t: AggregationTestContext;
  const org = makeOrg({ timezone: 'Europe/Zurich' });
  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: Date.parse('2026-12-02T12:00:00Z') });
    await t.ctx.storage.createOrg(org, Date.parse('2026-12-02T12:00:00Z'));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('--from 2026-11-30 --to 2026-12-01 is the local 30 November, dry run or not', async () => {
    for (const dryRun of [true, false]) {
      const result = await backfill(t.ctx, { orgId: org.id, from: { localDate: '2026-11-30' }, to: { localDate: '2026-12-01' }, dryRun });
      expect(result.buckets, `dryRun ${dryRun}`).toEqual(ONE_LOCAL_DAY);
    }
  });
});

/** The CLI parses the bare dates and hands them on as dates; it runs on the real clock, so the day is a recent one. */
describe('meterboard backfill --from D --to D+1 (sqlite, in-process CLI)', () => {
  let t: AggregationTestContext;
  const org = makeOrg({ timezone: 'Europe/Zurich' });
  const saved = { ...process.env };
  const configDir = mkdtempSync(join(tmpdir(), 'meterboard-cli-backfill-'));

  beforeAll(async () => {
    t = await createAggregationContext('sqlite', { now: Date.now() });
    await t.ctx.storage.createOrg(org, Date.now());
    const configFile = join(configDir, 'meterboard.config.json');
    writeFileSync(configFile, '{}');
    process.env = { ...saved, DATA_DIR: t.ctx.config.dataDir, CONFIG_FILE: configFile, LOG_LEVEL: 'silent' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_KEY', 'SMTP_URL']) delete process.env[name];
  });
  afterAll(async () => {
    process.env = saved;
    await t?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('recomputes one local day: 24 hours, one day, one week, one month', async () => {
    // A day well inside raw retention that has ended everywhere; the 15th never holds a daylight-saving change in Zurich.
    const recent = new Date(Date.now() - 20 * 86_400_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const from = `${recent.getUTCFullYear()}-${pad(recent.getUTCMonth() + 1)}-15`;
    const next = new Date(Date.UTC(recent.getUTCFullYear(), recent.getUTCMonth(), 16));
    const to = next.toISOString().slice(0, 10);
    let out = '';
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    try {
      await buildProgram().parseAsync(['node', 'meterboard', 'backfill', '--from', from, '--to', to, '--org', org.id, '--dry-run']);
    } finally {
      stdout.mockRestore();
    }
    expect((JSON.parse(out) as { buckets: unknown }).buckets).toEqual(ONE_LOCAL_DAY);
  });
});

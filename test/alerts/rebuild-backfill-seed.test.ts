import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerAlertRoutes } from '../../src/alerts/http/alerts.routes.ts';
import { resetOrgRollups } from '../../src/app/rebuild-org.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { aggregateOrgJob } from '../../src/worker/jobs/aggregate-org.ts';
import { uniqueId } from '../factories/index.ts';
import { bearer, createOrg, createQueryTestContext, ENGINES, getJson, ingest, type QueryTestContext, type TestOrg } from '../query/support.ts';

/**
 * The passes that mark and drain their own hours — the rebuild after a time-zone change,
 * `meterboard backfill` and `aggregate --from/--to`, `meterboard seed-demo` — must evaluate the alert rules of the
 * organizations they aggregated: the next scheduled pass finds no marks for them, so a breach
 * would go unnoticed until the organization's next event. Oracle: a rule "more than 1 request
 * on endpoint /probe in the last hour" and exactly two such requests (2 > 1); the demo
 * generator never uses that endpoint.
 */

interface ActiveJson {
  active: Array<{ name: string; value: number | null }>;
}

let seq = 0;
async function breachingOrg(t: QueryTestContext, id: string, now: number): Promise<TestOrg> {
  const org = await createOrg(t.app, { id, timezone: 'UTC' });
  const rule = await t.app.inject({
    method: 'POST',
    url: `/api/v1/orgs/${org.id}/alerts`,
    headers: bearer(org.keys.admin),
    payload: { name: 'Probe', metric: 'requests', dimension: { name: 'endpoint', value: '/probe' }, condition: 'above', threshold: 1, window: '1h', channels: ['webhook'] },
  });
  expect(rule.statusCode, rule.body).toBe(201);
  const events = [now - 10 * 60_000, now - 5 * 60_000].map((at) => {
    seq += 1;
    return { id: `p${seq}`, type: 'api_request', timestamp: new Date(at).toISOString(), endpoint: '/probe', method: 'GET', status_code: 200, latency_ms: 10 };
  });
  await ingest(t.app, org, events as never);
  return org;
}

const activeOf = async (t: QueryTestContext, org: TestOrg) =>
  (await getJson<ActiveJson>(t.app, `/api/v1/orgs/${org.id}/alerts/active`, org.keys.read)).body.active.map((a) => [a.name, a.value]);

describe.each(ENGINES)('the rebuild after a time-zone change evaluates alert rules (%s)', (engine) => {
  const NOW = Date.parse('2026-11-20T12:30:00Z');
  let t: QueryTestContext;
  beforeAll(async () => {
    t = await createQueryTestContext(engine, { now: NOW, routes: [registerAlertRoutes] });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('the aggregate-org job (the rebuild pass) leaves the breaching rule active with value 2', async () => {
    const org = await breachingOrg(t, uniqueId('tzrebuild'), NOW);
    await resetOrgRollups(t.ctx, org.id);
    await aggregateOrgJob.handler(t.ctx, { orgId: org.id });
    expect(await activeOf(t, org)).toEqual([['Probe', 2]]);
  });
});

/** The CLI reads the real clock and its own context over the embedded database the test set up. */
describe('meterboard backfill and seed-demo evaluate alert rules (sqlite)', () => {
  let t: QueryTestContext;
  const saved = { ...process.env };
  const configDir = mkdtempSync(join(tmpdir(), 'meterboard-cli-alerts-'));

  beforeAll(async () => {
    t = await createQueryTestContext('sqlite', { now: Date.now(), routes: [registerAlertRoutes] });
    const configFile = join(configDir, 'meterboard.config.json');
    writeFileSync(configFile, '{}');
    process.env = { ...saved, DATA_DIR: t.ctx.config.dataDir, CONFIG_FILE: configFile, LOG_LEVEL: 'silent' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_KEY', 'SMTP_URL']) delete process.env[name];
  }, 120_000);
  afterAll(async () => {
    process.env = saved;
    await t?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  const cli = async (...args: string[]) => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await buildProgram().parseAsync(['node', 'meterboard', ...args]);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  };

  it('meterboard backfill --days 1 --org <org>', async () => {
    const org = await breachingOrg(t, uniqueId('backfill'), Date.now());
    await cli('backfill', '--days', '1', '--org', org.id);
    expect(await activeOf(t, org)).toEqual([['Probe', 2]]);
  });

  it('meterboard aggregate --from <an hour ago> --org <org> (a backfill of a range)', async () => {
    const org = await breachingOrg(t, uniqueId('aggrange'), Date.now());
    await cli('aggregate', '--from', new Date(Date.now() - 3_600_000).toISOString(), '--org', org.id);
    expect(await activeOf(t, org)).toEqual([['Probe', 2]]);
  });

  it('meterboard seed-demo (into an existing demo organization)', async () => {
    // seed-demo's first organization is "acme"; it keeps an existing one.
    const org = await breachingOrg(t, 'acme', Date.now());
    await cli('seed-demo', '--days', '1', '--orgs', '1', '--events-per-day', '24');
    expect(await activeOf(t, org)).toEqual([['Probe', 2]]);
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';
import { registerReportRoutes } from '../../src/reports/http/reports.routes.ts';
import { bearer, createOrg, createQueryTestContext, getJson, type QueryTestContext, type TestOrg } from '../query/support.ts';
import { startWebhookSink, type WebhookSink } from './support.ts';

/**
 * `meterboard report --date D --send` records D as delivered so the scheduled run skips it. A
 * D whose local day has not ended (today, a future date) must be refused: sending it would
 * deliver a partial report and stop the real one from ever going out. The command runs
 * in-process on the embedded database the test set up (the CLI shell is the same on both engines).
 */

const DAY = 86_400_000;

describe('report --send refuses a day that has not ended (sqlite)', () => {
  let t: QueryTestContext;
  let org: TestOrg;
  let hook: WebhookSink;
  const saved = { ...process.env };

  beforeAll(async () => {
    hook = await startWebhookSink();
    t = await createQueryTestContext('sqlite', { now: Date.now(), routes: [registerReportRoutes] });
    org = await createOrg(t.app, { id: 'send-day', timezone: 'UTC' });
    const settings = await t.app.inject({ method: 'PUT', url: `/api/v1/orgs/${org.id}/reports/settings`, headers: bearer(org.keys.admin), payload: { recipients: [], webhook_url: hook.url } });
    expect(settings.statusCode, settings.body).toBe(200);
    const configFile = join(t.ctx.config.dataDir, 'meterboard.config.json');
    writeFileSync(configFile, '{}');
    process.env = { ...saved, DATA_DIR: t.ctx.config.dataDir, CONFIG_FILE: configFile, LOG_LEVEL: 'silent' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_KEY', 'SMTP_URL']) delete process.env[name];
  }, 120_000);
  afterAll(async () => {
    process.env = saved;
    await t?.close();
    await hook?.stop();
  });

  const send = async (date: string) => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await buildProgram().parseAsync(['node', 'meterboard', 'report', '--date', date, '--org', org.id, '--send']);
    } finally {
      stdout.mockRestore();
    }
  };
  const history = async () => (await getJson<{ reports: Array<{ date: string; status: string }> }>(t.app, `/api/v1/orgs/${org.id}/reports`, org.keys.read)).body.reports;

  it('today and tomorrow are refused, nothing sent or recorded; yesterday goes out', async () => {
    const today = new Date(Date.now()).toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + DAY).toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
    for (const date of [today, tomorrow]) await expect(send(date), date).rejects.toThrow(/has not ended/);
    expect(hook.bodies).toEqual([]);
    expect(await history()).toEqual([]);
    await send(yesterday);
    expect(hook.bodies.map((body) => (body as { date: string }).date)).toEqual([yesterday]);
    expect((await history()).map((r) => [r.date, r.status])).toEqual([[yesterday, 'delivered']]);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerAlertRoutes } from '../../src/alerts/http/alerts.routes.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { bearer, createOrg, createQueryTestContext, getJson, ingest, type QueryTestContext, type TestOrg } from '../query/support.ts';

/**
 * `meterboard aggregate` (no range) is a pass over the dirty marks like the scheduled one: it
 * must evaluate the alert rules of the organizations it aggregated, or a breach it consumed the
 * marks of goes unnoticed until the organization's next event. The command runs in-process on
 * the embedded database the test set up (the CLI shell is the same on both engines).
 */

describe('meterboard aggregate evaluates alert rules (sqlite)', () => {
  let t: QueryTestContext;
  let org: TestOrg;
  const saved = { ...process.env };
  const configDir = mkdtempSync(join(tmpdir(), 'meterboard-cli-alerts-'));

  beforeAll(async () => {
    // The CLI reads the real clock: the test's events sit in the hour before now.
    t = await createQueryTestContext('sqlite', { now: Date.now(), routes: [registerAlertRoutes] });
    org = await createOrg(t.app, { id: 'cli-alerts', timezone: 'UTC' });
    const rule = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${org.id}/alerts`,
      headers: bearer(org.keys.admin),
      payload: { name: 'Busy', metric: 'requests', condition: 'above', threshold: 1, window: '1h', channels: ['webhook'] },
    });
    expect(rule.statusCode, rule.body).toBe(201);
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    await ingest(t.app, org, [
      { id: 'r1', type: 'api_request', timestamp: at(10), endpoint: '/a', method: 'GET', status_code: 200, latency_ms: 5 },
      { id: 'r2', type: 'api_request', timestamp: at(5), endpoint: '/a', method: 'GET', status_code: 200, latency_ms: 5 },
    ] as never);
  }, 120_000);
  afterAll(async () => {
    process.env = saved;
    await t?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('after the pass, the breaching rule is active with the value the events make (2 > 1)', async () => {
    const configFile = join(configDir, 'meterboard.config.json');
    writeFileSync(configFile, '{}');
    process.env = { ...saved, DATA_DIR: t.ctx.config.dataDir, CONFIG_FILE: configFile, LOG_LEVEL: 'silent' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_KEY', 'SMTP_URL']) delete process.env[name];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await buildProgram().parseAsync(['node', 'meterboard', 'aggregate']);
    } finally {
      stdout.mockRestore();
    }
    const active = (await getJson<{ active: Array<{ name: string; value: number }> }>(t.app, `/api/v1/orgs/${org.id}/alerts/active`, org.keys.read)).body.active;
    expect(active.map((a) => [a.name, a.value])).toEqual([['Busy', 2]]);
  });
});

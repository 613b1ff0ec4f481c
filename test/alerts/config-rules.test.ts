import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlerts } from '../../src/alerts/app/evaluate-alerts.ts';
import { createAlertsRuntime } from '../../src/alerts/compose.ts';
import type { ConfigAlertRule } from '../../src/alerts/domain/config-rules.ts';
import { registerAlertRoutes } from '../../src/alerts/http/alerts.routes.ts';
import type { AppContext } from '../../src/app/context.ts';
import { createContext } from '../../src/compose.ts';
import { loadConfig } from '../../src/config/config.ts';
import { registerReportRoutes } from '../../src/reports/http/reports.routes.ts';
import { uniqueId } from '../factories/index.ts';
import { aggregate, bearer, createOrg, createQueryTestContext, ENGINES, ingest, type QueryTestContext, type TestOrg } from '../query/support.ts';
import { startWebhookSink, type WebhookSink } from '../reports/support.ts';

/**
 * Alert rules in the config file: validated like the API's (the error names the rule, the field
 * and why), upserted per organization as config-managed rules that the API lists but refuses to
 * change, and evaluated like any other rule.
 */

const MINUTE = 60_000;
const NOW = Date.parse('2026-11-22T15:00:00Z');
const good = { org: 'acme', name: 'Busy', metric: 'requests', condition: 'above', threshold: 2, window: '1h', channels: ['webhook'] };

describe('config file alert rules: validation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meterboard-alert-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = (alerts: unknown[]) => {
    const file = join(dir, `c-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ alerts }));
    return () => loadConfig({ CONFIG_FILE: file, DATA_DIR: dir, LOG_LEVEL: 'silent' }, dir);
  };

  it('names the rule (index and name), the field and the reason', () => {
    const cases: Array<[unknown[], string]> = [
      [[good, { ...good, name: 'Slow', window: '2h' }], 'alerts[1] ("Slow").window'],
      [[{ ...good, org: undefined }], 'alerts[0] ("Busy").org: required'],
      [[{ ...good, org: 'Not An Id!' }], 'alerts[0] ("Busy").org'],
      [[{ ...good, condition: 'change_pct' }], 'alerts[0] ("Busy").compare_to: compare_to is required when condition is change_pct'],
      [[{ ...good, channels: ['sms'] }], 'alerts[0] ("Busy").channels.0'],
      [[{ ...good, threshold: 'high' }], 'alerts[0] ("Busy").threshold'],
      [[{ ...good, colour: 'red' }], 'alerts[0] ("Busy")'],
      [[good, { ...good, threshold: 9 }], 'alerts[1] ("Busy").name: organization "acme" already has a config rule named "Busy"'],
      [['just a string'], 'alerts[0]: expected an object'],
    ];
    for (const [alerts, message] of cases) expect(load(alerts), JSON.stringify(alerts)).toThrow(message);
    // The same name in two organizations is two rules.
    expect(load([good, { ...good, org: 'globex' }])().alerts.map((a) => a.org)).toEqual(['acme', 'globex']);
  });

  it('checks the metric and dimension against the catalog at start, naming the rule', async () => {
    const unknownMetric = load([good, { ...good, name: 'Typo', metric: 'requestz' }])();
    await expect(createContext(unknownMetric, { processMetrics: false })).rejects.toThrow('alerts[1] ("Typo").metric: unknown metric "requestz"');
    const badDimension = load([{ ...good, dimension: { name: 'colour', value: 'red' } }])();
    await expect(createContext(badDimension, { processMetrics: false })).rejects.toThrow('alerts[0] ("Busy").dimension.name: metric "requests" has no dimension "colour"');
  });
});

describe.each(ENGINES)('config file alert rules: effect (%s)', (engine) => {
  let t: QueryTestContext;
  let hook: WebhookSink;
  let org: TestOrg;
  const orgId = uniqueId('cfgrules');
  const opened: AppContext['alerts'][] = [];
  /** A process started with these config rules: its own alert store connection on the same database. */
  const processWith = (rules: Array<Omit<ConfigAlertRule, 'org'>['rule']>): AppContext => {
    const alerts = createAlertsRuntime({ ...t.ctx.config, alerts: rules.map((rule) => ({ org: orgId, rule })) }, t.reportStoreTarget);
    opened.push(alerts);
    return { ...t.ctx, alerts };
  };
  const busy = { name: 'Busy', metric: 'requests', condition: 'above' as const, threshold: 2, window: '1h' as const, channels: ['webhook' as const] };
  const quiet = { name: 'Quiet', metric: 'requests', condition: 'below' as const, threshold: 1, window: '24h' as const, channels: ['webhook' as const] };

  beforeAll(async () => {
    hook = await startWebhookSink();
    t = await createQueryTestContext(engine, { now: NOW, routes: [registerReportRoutes, registerAlertRoutes] });
    // The HTTP process is started with the config rules too (the file is read by every process).
    const original = t.ctx.alerts;
    t.ctx.alerts = createAlertsRuntime({ ...t.ctx.config, alerts: [{ org: orgId, rule: busy }] }, t.reportStoreTarget);
    await original.close();
    org = await createOrg(t.app, { id: orgId, timezone: 'UTC' });
    await t.app.inject({ method: 'PUT', url: `/api/v1/orgs/${org.id}/reports/settings`, headers: bearer(org.keys.admin), payload: { recipients: [], webhook_url: hook.url } });
  }, 120_000);
  afterAll(async () => {
    for (const alerts of opened) await alerts.close();
    await t?.close();
    await hook?.stop();
  });

  const listRules = async () => {
    const response = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/alerts`, headers: bearer(org.keys.admin) });
    expect(response.statusCode).toBe(200);
    return (response.json() as { alerts: Array<{ id: string; name: string; threshold: number; state: string; managed_by: string }> }).alerts;
  };

  it('are upserted once per organization (two processes starting together), listed as config-managed, and the API cannot change them', async () => {
    // Two workers syncing at the same moment, then the API process: one row.
    await Promise.all([evaluateAlerts(processWith([busy]), [org.id]), evaluateAlerts(processWith([busy]), [org.id])]);
    const rules = await listRules();
    expect(rules.map((r) => [r.name, r.managed_by, r.threshold])).toEqual([['Busy', 'config', 2]]);

    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/orgs/${org.id}/alerts/${rules[0]!.id}`, headers: bearer(org.keys.admin) });
    expect(del.statusCode).toBe(409);
    expect(del.body).toContain('managed by the config file');
    const clash = await t.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/alerts`, headers: bearer(org.keys.admin), payload: { ...busy, threshold: 100 } });
    expect(clash.statusCode).toBe(409);
    expect((clash.json() as { error: { message: string } }).error.message).toMatch(/^alert rule "Busy" of organization "cfgrules-[^"]+" is managed by the config file/);
    const own = await t.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/alerts`, headers: bearer(org.keys.admin), payload: { ...busy, name: 'Mine' } });
    expect(own.statusCode, own.body).toBe(201);
    expect((own.json() as { managed_by: string }).managed_by).toBe('api');
  });

  it('are evaluated like API rules: a breach notifies once', async () => {
    const sent = [0, 10, 20].map((m, i) => ({ id: `c${i}`, type: 'api_request', timestamp: new Date(NOW - (30 + m) * MINUTE).toISOString(), endpoint: '/q', method: 'GET', status_code: 200, latency_ms: 1 }));
    await ingest(t.app, org, sent as never);
    await aggregate(t.ctx);
    await Promise.all([evaluateAlerts(t.ctx, [org.id]), evaluateAlerts(processWith([busy]), [org.id])]);
    const configRule = (await listRules()).find((r) => r.name === 'Busy')!;
    // Oracle: 3 requests in the last hour > threshold 2 → breaching; "Mine" (same condition, from the API) too.
    expect(sent.filter((e) => Date.parse(e.timestamp) >= NOW - 60 * MINUTE)).toHaveLength(3);
    expect(configRule.state).toBe('breaching');
    const bodies = hook.bodies as Array<{ rule_id: string; kind: string; value: number }>;
    expect(bodies.filter((b) => b.rule_id === configRule.id)).toEqual([expect.objectContaining({ kind: 'breach', value: 3 })]);
  });

  it('after a restart with a changed file: changed rules replaced (state kept), removed ones deleted, API rules untouched', async () => {
    const before = await listRules();
    const restarted = processWith([{ ...busy, threshold: 1 }, quiet]);
    await evaluateAlerts(restarted, []); // nothing evaluated: the sync happens when the org is first touched
    const listed = await restarted.alerts.store.listRules(org.id);
    // Created at the same (fixed) clock time: the order among them is the ids', so compare as sets.
    expect(listed.map((r) => r.definition.name).sort()).toEqual(['Busy', 'Mine']);
    expect(listed.find((r) => r.definition.name === 'Busy')!.definition.threshold).toBe(2);
    await evaluateAlerts(restarted, [org.id]);
    const after = await restarted.alerts.store.listRules(org.id);
    const byName = new Map(after.map((r) => [r.definition.name, r]));
    expect([...byName.keys()].sort()).toEqual(['Busy', 'Mine', 'Quiet']);
    expect(byName.get('Busy')).toMatchObject({ id: before.find((r) => r.name === 'Busy')!.id, state: 'breaching', configKey: 'Busy' });
    expect(byName.get('Busy')!.definition.threshold).toBe(1);
    expect(byName.get('Quiet')!.configKey).toBe('Quiet');
    expect(byName.get('Mine')!.configKey).toBeNull();

    const emptied = processWith([]);
    await evaluateAlerts(emptied, [org.id]);
    expect((await emptied.alerts.store.listRules(org.id)).map((r) => [r.definition.name, r.configKey])).toEqual([['Mine', null]]);
  });
});

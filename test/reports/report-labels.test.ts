import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerReportRoutes } from '../../src/reports/http/reports.routes.ts';
import { uniqueId } from '../factories/index.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, getJson, ingest, type QueryTestContext, type TestOrg } from '../query/support.ts';

/**
 * The daily report names metrics as the dashboard does: each row's label is the catalog's
 * display label from GET …/metrics (and compare's `label`), so look-alikes such as "LLM calls
 * (usage records)" and "LLM calls (all usage types)" are told apart in the e-mail too.
 */

const NOW = Date.parse('2026-11-20T09:00:00Z');
const DAY_BEFORE = '2026-11-19';

interface Row {
  metric_name: string;
  label: string;
}

describe.each(ENGINES)('daily report labels (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;

  beforeAll(async () => {
    t = await createQueryTestContext(engine, { now: NOW, routes: [registerReportRoutes] });
    org = await createOrg(t.app, { id: uniqueId('labels'), timezone: 'UTC' });
    await ingest(t.app, org, [
      { id: 'l1', type: 'llm_call', timestamp: `${DAY_BEFORE}T10:00:00Z`, usage_type: 'llm', model: 'gpt-4o', input_tokens: 10, output_tokens: 5, latency_ms: 100 },
      { id: 'l2', type: 'llm_call', timestamp: `${DAY_BEFORE}T11:00:00Z`, usage_type: 'embedding', model: 'text-embedding-3-small', input_tokens: 10, latency_ms: 50 },
      { id: 'p1', type: 'page_usage', timestamp: `${DAY_BEFORE}T12:00:00Z`, pages: 3, failed_pages: 1 },
    ] as never);
    await aggregate(t.ctx);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('every row carries the catalog label; compare carries it too', async () => {
    const catalog = (await getJson<{ metrics: Array<{ name: string; label: string }> }>(t.app, `/api/v1/orgs/${org.id}/metrics`, org.keys.read)).body.metrics;
    const labelOf = new Map(catalog.map((m) => [m.name, m.label]));
    const report = (await getJson<{ sections: Array<{ rows: Row[] }> }>(t.app, `/api/v1/orgs/${org.id}/reports/daily?date=${DAY_BEFORE}&format=json`, org.keys.read)).body;
    const rows = report.sections.flatMap((section) => section.rows);
    expect(rows.map((row) => row.metric_name)).toEqual(expect.arrayContaining(['llm_calls', 'llm.call_count', 'pages_processed']));
    for (const row of rows) expect(row.label, row.metric_name).toBe(labelOf.get(row.metric_name));
    const byName = new Map(rows.map((row) => [row.metric_name, row.label]));
    expect(byName.get('llm_calls')).not.toBe(byName.get('llm.call_count'));
    const compare = (await getJson<{ metrics: Row[] }>(t.app, `/api/v1/orgs/${org.id}/compare?date=${DAY_BEFORE}`, org.keys.read)).body.metrics;
    for (const entry of compare) expect(entry.label, entry.metric_name).toBe(labelOf.get(entry.metric_name));
  });
});

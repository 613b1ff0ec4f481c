import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAppContext } from '../support/app-context.ts';
import { pullDepsOf } from '../../src/sources/pull-job.ts';
import { pullSources } from '../../src/sources/pull-sources.ts';
import { sourceConfigSchema } from '../../src/sources/source-config.ts';
import { createAggregationContext, ENGINES, type AggregationTestContext } from '../aggregation/support.ts';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../support/postgres.ts';

/** `tables`: any table as events, one current event per row (updates supersede), attributes by column. */
const NOW = Date.parse('2026-11-20T12:00:00Z');

describe.each(ENGINES)('generic tables into %s storage', (engine) => {
  let t: AggregationTestContext;
  let ctx: TestAppContext;
  const schema = uniqueSchemaName('src_tables');
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });

  const currentRows = async () =>
    (await client.query<{ id: string; plan: string; country_code: string | null; tenant: string }>(`SELECT s.id::text AS id, s.plan, s.country_code, s.tenant FROM ${schema}.signups s ORDER BY s.id`)).rows;
  const currentEvents = async (orgId: string) =>
    (await ctx.storage.scanEvents({ orgId, from: 0, to: NOW + 1, types: ['signup'] }))
      .map((event) => ({ row: String(event.attrs['source_row']).split(':').at(-1), plan: event.attrs['plan'], country: event.attrs['country'] ?? null }))
      .sort((a, b) => Number(a.row) - Number(b.row));

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW });
    for (const id of ['acme', 'globex']) await t.ctx.storage.createOrg({ id, name: id, timezone: 'UTC' }, NOW);
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`CREATE TABLE ${schema}.signups (id bigserial PRIMARY KEY, tenant text NOT NULL, plan text NOT NULL, country_code text,
      created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)`);
    await client.query(`INSERT INTO ${schema}.signups (tenant, plan, country_code, created_at, updated_at)
      SELECT CASE WHEN i % 3 = 0 THEN 'g' ELSE 'a' END, CASE WHEN i % 2 = 0 THEN 'free' ELSE 'pro' END, CASE WHEN i % 4 = 0 THEN NULL ELSE 'CH' END,
             $1::timestamptz - i * interval '37 minutes', $1::timestamptz - i * interval '37 minutes'
        FROM generate_series(1, 60) AS i`, [new Date(NOW - 3_600_000)]);
    const source = sourceConfigSchema.parse({
      name: 'app',
      kind: 'postgres',
      url: TEST_DATABASE_URL,
      schema,
      orgs: { a: 'acme', g: 'globex' },
      tables: [{ table: 'signups', event: 'signup', modified: 'updated_at', org_column: 'tenant', attributes: { plan: 'plan', country: 'country_code' } }],
    });
    ctx = { ...t.ctx, config: Object.freeze({ ...t.ctx.config, sources: [source] }) };
  });

  afterAll(async () => {
    await ctx.sources.connector.close();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await t.close();
  });

  const expected = async (tenant: string) =>
    (await currentRows()).filter((row) => row.tenant === tenant).map((row) => ({ row: row.id, plan: row.plan, country: row.country_code }));

  it('pulls one event per row into the mapped organization, then follows updates', async () => {
    const [first] = await pullSources(pullDepsOf(ctx), { force: true });
    expect(first).toMatchObject({ ok: true, rowsRead: 60, accepted: 60, rejected: 0 });
    expect(await currentEvents('acme')).toEqual(await expected('a'));
    expect(await currentEvents('globex')).toEqual(await expected('g'));

    t.clock.advance(60_000);
    await client.query(`UPDATE ${schema}.signups SET plan = 'enterprise', updated_at = $1 WHERE id % 5 = 0`, [new Date(NOW + 30_000)]);
    const [second] = await pullSources(pullDepsOf(ctx), { force: true });
    expect(second).toMatchObject({ ok: true, accepted: 12, rejected: 0 });
    expect(await currentEvents('acme')).toEqual(await expected('a'));
    expect(await currentEvents('globex')).toEqual(await expected('g'));
    expect((await currentEvents('acme')).filter((e) => e.plan === 'enterprise').length).toBeGreaterThan(0);
  });
});

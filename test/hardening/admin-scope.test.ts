import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAdminRoutes } from '../../src/http/admin.routes.ts';
import { registerQueryRoutes } from '../../src/http/query.routes.ts';
import { uniqueId } from '../factories/index.ts';
import { adminHeaders, bearer, createHttpTestContext, createOrgWithKeys, TEST_NOW } from '../support/http-context.ts';
import type { Engine, HttpTestContext } from '../support/http-context.ts';
import { probePostgres } from '../support/postgres.ts';

/**
 * Finding 7 of issue 13: an admin key created under organization A read B's data, listed B's
 * keys and every organization. Organization admin keys now manage only their organization;
 * the bootstrap ADMIN_KEY and global keys (POST /api/v1/admin/keys) see every organization.
 */

const engines: Engine[] = (await probePostgres()) ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(engines)('admin key scope on %s', (engine) => {
  let t: HttpTestContext;
  let a: string;
  let b: string;
  let keysA: { ingest: string; read: string; admin: string };
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, key: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    t = await createHttpTestContext(engine, { server: { routes: [registerQueryRoutes, (app, c) => registerAdminRoutes(app, c)] } });
    a = uniqueId('scope-a');
    b = uniqueId('scope-b');
    keysA = await createOrgWithKeys(t.app, { id: a });
    await createOrgWithKeys(t.app, { id: b });
  });
  afterAll(() => t.close());

  it("an organization's admin key manages its own organization", async () => {
    const admin = keysA.admin;
    expect((await call('GET', `/api/v1/orgs/${a}`, admin)).statusCode).toBe(200);
    expect((await call('GET', `/api/v1/orgs/${a}/keys`, admin)).statusCode).toBe(200);
    expect((await call('POST', `/api/v1/orgs/${a}/keys`, admin, { scope: 'read' })).statusCode).toBe(201);
    expect((await call('PATCH', `/api/v1/orgs/${a}`, admin, { name: 'Renamed' })).statusCode).toBe(200);
    const event = [{ type: 'page_usage', timestamp: new Date(TEST_NOW - 60_000).toISOString(), pages: 2 }];
    expect((await call('POST', `/api/v1/events`, admin, event)).json()).toMatchObject({ accepted: 1 });
    expect((await call('POST', `/api/v1/events?org=${a}`, admin, event)).json()).toMatchObject({ accepted: 1 });
    const listed = (await call('GET', '/api/v1/orgs', admin)).json() as { orgs: { id: string }[] };
    expect(listed.orgs.map((o) => o.id)).toEqual([a]);
  });

  it("an organization's admin key cannot read, list, change or write another organization, nor create one", async () => {
    const admin = keysA.admin;
    const start = new Date(TEST_NOW - 86_400_000).toISOString();
    const end = new Date(TEST_NOW).toISOString();
    const attempts = [
      await call('GET', `/api/v1/orgs/${b}`, admin),
      await call('GET', `/api/v1/orgs/${b}/keys`, admin),
      await call('POST', `/api/v1/orgs/${b}/keys`, admin, { scope: 'admin' }),
      await call('PATCH', `/api/v1/orgs/${b}`, admin, { name: 'Taken' }),
      await call('GET', `/api/v1/orgs/${b}/summary?start=${start}&end=${end}`, admin),
      await call('POST', `/api/v1/events?org=${b}`, admin, [{ type: 'page_usage', timestamp: end, pages: 1 }]),
      await call('POST', '/api/v1/orgs', admin, { id: uniqueId('new') }),
      await call('POST', '/api/v1/admin/keys', admin, { name: 'escalate' }),
      await call('GET', '/api/v1/admin/keys', admin),
    ];
    for (const response of attempts) {
      expect(response.statusCode, response.body).toBe(403);
      expect(response.json()).toMatchObject({ error: { code: 'forbidden' } });
    }
  });

  it('global keys, created by a global admin, see every organization and can be revoked', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/admin/keys', headers: adminHeaders, payload: { name: 'ops' } });
    expect(created.statusCode, created.body).toBe(201);
    const { key, id } = created.json() as { key: string; id: string };
    expect(key).toMatch(/^mb_admin_/);

    const listed = (await call('GET', '/api/v1/orgs', key)).json() as { orgs: { id: string }[] };
    expect(listed.orgs.map((o) => o.id)).toEqual(expect.arrayContaining([a, b]));
    expect((await call('GET', `/api/v1/orgs/${b}/keys`, key)).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/orgs', key, { id: uniqueId('by-global') })).statusCode).toBe(201);
    const globals = (await call('GET', '/api/v1/admin/keys', key)).json() as { keys: { id: string; org_id: string | null }[] };
    expect(globals.keys.map((k) => k.id)).toContain(id);

    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/admin/keys/${id}`, headers: adminHeaders })).statusCode).toBe(204);
    expect((await call('GET', '/api/v1/orgs', key)).statusCode).toBe(401);
  });
});

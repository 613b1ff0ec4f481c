import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Organization } from '../../src/domain/organization.ts';
import { uniqueId } from '../factories/index.ts';
import { adminHeaders, bearer, createHttpTestContext, createOrgWithKeys, TEST_NOW } from '../support/http-context.ts';
import { ENGINES } from '../support/engines.ts';
import type { HttpTestContext } from '../support/http-context.ts';

/** Organizations and API keys through HTTP (SPEC §4 Administration), on each engine. */

const engines = ENGINES;

describe.each(engines)('organizations and keys on %s', (engine) => {
  let t: HttpTestContext;
  const timezoneChanges: { orgId: string; from: string; to: string }[] = [];

  beforeAll(async () => {
    t = await createHttpTestContext(engine, {
      server: {
        onTimezoneChanged: async (_ctx, org: Organization, previous: string) => {
          timezoneChanges.push({ orgId: org.id, from: previous, to: org.timezone });
        },
      },
    });
  });
  afterAll(() => t.close());

  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string> = adminHeaders, payload?: unknown) =>
    t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('creates an organization, answers 409 for an existing id, and lists and gets it', async () => {
    const id = uniqueId('acme');
    const created = await inject('POST', '/api/v1/orgs', adminHeaders, { id, name: 'Acme', timezone: 'Asia/Kolkata' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      id,
      name: 'Acme',
      timezone: 'Asia/Kolkata',
      created_at: new Date(TEST_NOW).toISOString(),
      updated_at: new Date(TEST_NOW).toISOString(),
    });

    const again = await inject('POST', '/api/v1/orgs', adminHeaders, { id, name: 'Other' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('conflict');

    const list = (await inject('GET', '/api/v1/orgs')).json() as { orgs: { id: string }[] };
    expect(list.orgs.map((org) => org.id)).toContain(id);
    expect((await inject('GET', `/api/v1/orgs/${id}`)).json()).toMatchObject({ id, timezone: 'Asia/Kolkata' });
    expect((await inject('GET', '/api/v1/orgs/no-such-org')).statusCode).toBe(404);
  });

  it('defaults the name and time zone, and validates id, timezone and types with 400 naming the field', async () => {
    const id = uniqueId('plain');
    expect((await inject('POST', '/api/v1/orgs', adminHeaders, { id })).json()).toMatchObject({ id, name: id, timezone: 'UTC' });

    const badTz = await inject('POST', '/api/v1/orgs', adminHeaders, { id: uniqueId('tz'), name: 'x', timezone: 'Mars/Olympus' });
    expect(badTz.statusCode).toBe(400);
    expect(badTz.json().error.code).toBe('validation');
    expect(badTz.json().error.message).toMatch(/^timezone: /);
    expect(badTz.json().error.details.issues).toEqual([{ field: 'timezone', message: expect.stringContaining('Mars/Olympus') }]);

    for (const badId of ['Upper', '-dash-first', 'a'.repeat(64), 'has space']) {
      const response = await inject('POST', '/api/v1/orgs', adminHeaders, { id: badId, name: 'x' });
      expect(response.statusCode, badId).toBe(400);
      expect(response.json().error.details.issues[0].field).toBe('id');
    }
    const uuid = '0b7c2f6e-4f7e-4d53-9a55-1b2c3d4e5f60';
    expect((await inject('POST', '/api/v1/orgs', adminHeaders, { id: uuid, name: 'uuid org' })).statusCode).toBe(201);

    const wrongType = await inject('POST', '/api/v1/orgs', adminHeaders, { id: 42 });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error.message).toMatch(/id/);
  });

  it('patches name and time zone, calling the rebuild hook only when the zone changes', async () => {
    const id = uniqueId('patch');
    await inject('POST', '/api/v1/orgs', adminHeaders, { id, name: 'Before' });
    const renamed = await inject('PATCH', `/api/v1/orgs/${id}`, adminHeaders, { name: 'After' });
    expect(renamed.json()).toMatchObject({ id, name: 'After', timezone: 'UTC' });
    expect(timezoneChanges.filter((c) => c.orgId === id)).toEqual([]);

    const moved = await inject('PATCH', `/api/v1/orgs/${id}`, adminHeaders, { timezone: 'America/New_York' });
    expect(moved.json()).toMatchObject({ name: 'After', timezone: 'America/New_York' });
    expect(timezoneChanges.filter((c) => c.orgId === id)).toEqual([{ orgId: id, from: 'UTC', to: 'America/New_York' }]);

    const badTz = await inject('PATCH', `/api/v1/orgs/${id}`, adminHeaders, { timezone: 'Nowhere/Land' });
    expect(badTz.statusCode).toBe(400);
    expect(badTz.json().error.details.issues[0].field).toBe('timezone');
    expect((await inject('PATCH', `/api/v1/orgs/${id}`, adminHeaders, { color: 'red' })).statusCode).toBe(400);
    expect((await inject('PATCH', '/api/v1/orgs/no-such-org', adminHeaders, { name: 'x' })).statusCode).toBe(404);
  });

  it('creates keys shown once, lists them without secrets, records use and revokes them', async () => {
    const id = uniqueId('keys');
    await inject('POST', '/api/v1/orgs', adminHeaders, { id, name: 'Keys' });
    const created = await inject('POST', `/api/v1/orgs/${id}/keys`, adminHeaders, { scope: 'read', name: 'dashboard' });
    expect(created.statusCode).toBe(201);
    const key = created.json() as Record<string, string>;
    expect(Object.keys(key).sort()).toEqual(['created_at', 'id', 'key', 'name', 'org_id', 'scope']);
    expect(key['key']).toMatch(/^mb_read_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({ scope: 'read', name: 'dashboard', org_id: id });

    const listed = await inject('GET', `/api/v1/orgs/${id}/keys`);
    expect(listed.body).not.toContain(key['key']);
    const keys = (listed.json() as { keys: Record<string, unknown>[] }).keys;
    expect(keys).toEqual([{ id: key['id'], org_id: id, scope: 'read', name: 'dashboard', created_at: key['created_at'], last_used_at: null }]);

    t.clock.advance(5_000);
    expect((await inject('GET', `/api/v1/orgs/${id}`, bearer(key['key']!))).statusCode).toBe(200);
    await vi.waitFor(async () => {
      const [record] = await t.ctx.storage.listKeys(id);
      expect(record!.lastUsedAt).toBe(TEST_NOW + 5_000);
    });

    const revoked = await inject('DELETE', `/api/v1/orgs/${id}/keys/${key['id']}`);
    expect(revoked.statusCode).toBe(204);
    expect(revoked.body).toBe('');
    expect((await inject('GET', `/api/v1/orgs/${id}`, bearer(key['key']!))).statusCode).toBe(401);
    expect((await inject('DELETE', `/api/v1/orgs/${id}/keys/${key['id']}`)).statusCode).toBe(404);
    expect((await inject('GET', `/api/v1/orgs/${id}/keys`)).json()).toEqual({ keys: [] });

    const badScope = await inject('POST', `/api/v1/orgs/${id}/keys`, adminHeaders, { scope: 'superuser' });
    expect(badScope.statusCode).toBe(400);
    expect(badScope.json().error.message).toMatch(/scope/);
    expect((await inject('POST', '/api/v1/orgs/no-such-org/keys', adminHeaders, { scope: 'read' })).statusCode).toBe(404);
  });

  it('does not revoke a key through another organization', async () => {
    const a = uniqueId('a');
    const b = uniqueId('b');
    await createOrgWithKeys(t.app, { id: a });
    const bKeys = await createOrgWithKeys(t.app, { id: b });
    const [bRead] = (await t.ctx.storage.listKeys(b)).filter((k) => k.scope === 'read');
    expect((await inject('DELETE', `/api/v1/orgs/${a}/keys/${bRead!.id}`)).statusCode).toBe(404);
    expect((await inject('GET', `/api/v1/orgs/${b}`, bearer(bKeys.read))).statusCode).toBe(200);
  });

  it('enforces scopes: 401 without a valid key, 403 for the wrong scope or a foreign organization', async () => {
    const mine = uniqueId('mine');
    const theirs = uniqueId('theirs');
    const keys = await createOrgWithKeys(t.app, { id: mine });
    await createOrgWithKeys(t.app, { id: theirs });

    expect((await inject('GET', '/api/v1/orgs', {})).statusCode).toBe(401);
    expect((await inject('GET', '/api/v1/orgs', { authorization: 'Basic abc' })).statusCode).toBe(401);
    expect((await inject('GET', '/api/v1/orgs', bearer('mb_admin_unknown'))).statusCode).toBe(401);

    // a read key sees its own organization only; a foreign one is 403 whether or not it exists
    expect((await inject('GET', '/api/v1/orgs', bearer(keys.read))).json()).toEqual({ orgs: [expect.objectContaining({ id: mine })] });
    expect((await inject('GET', `/api/v1/orgs/${mine}`, bearer(keys.read))).statusCode).toBe(200);
    const foreign = await inject('GET', `/api/v1/orgs/${theirs}`, bearer(keys.read));
    const missing = await inject('GET', '/api/v1/orgs/no-such-org', bearer(keys.read));
    expect(foreign.statusCode).toBe(403);
    expect(missing.json()).toEqual(foreign.json());

    // read and ingest keys administer nothing, not even their own organization
    for (const key of [keys.read, keys.ingest]) {
      expect((await inject('POST', '/api/v1/orgs', bearer(key), { id: uniqueId('x') })).statusCode).toBe(403);
      expect((await inject('PATCH', `/api/v1/orgs/${mine}`, bearer(key), { name: 'x' })).statusCode).toBe(403);
      expect((await inject('GET', `/api/v1/orgs/${mine}/keys`, bearer(key))).statusCode).toBe(403);
      expect((await inject('POST', `/api/v1/orgs/${mine}/keys`, bearer(key), { scope: 'admin' })).statusCode).toBe(403);
    }
    expect((await inject('GET', `/api/v1/orgs/${mine}`, bearer(keys.ingest))).statusCode).toBe(403);
    expect((await inject('GET', '/api/v1/orgs', bearer(keys.ingest))).statusCode).toBe(403);

    // an admin key created under one organization administers that organization only (issue 13)
    expect((await inject('GET', `/api/v1/orgs/${theirs}/keys`, bearer(keys.admin))).statusCode).toBe(403);
    expect((await inject('PATCH', `/api/v1/orgs/${theirs}`, bearer(keys.admin), { name: 'Renamed' })).statusCode).toBe(403);
    expect((await inject('GET', `/api/v1/orgs/${mine}/keys`, bearer(keys.admin))).statusCode).toBe(200);
    expect((await inject('PATCH', `/api/v1/orgs/${mine}`, bearer(keys.admin), { name: 'Renamed' })).json()).toMatchObject({ name: 'Renamed' });
  });
});

describe('request validation messages', () => {
  let t: HttpTestContext;
  beforeAll(async () => {
    t = await createHttpTestContext('sqlite');
  });
  afterAll(() => t.close());

  it.each([
    ['a wrong type', 'POST', '/api/v1/orgs', { id: 42 }, 'id', /^id: .*string/],
    ['a missing field', 'POST', '/api/v1/orgs', { name: 'x' }, 'id', /^id: /],
    ['an unknown key', 'PATCH', '/api/v1/orgs/whatever', { colour: 'red' }, 'colour', /^colour: /],
    ['a bad enum', 'POST', '/api/v1/orgs/whatever/keys', { scope: 'root' }, 'scope', /^scope: /],
  ] as const)('names the field for %s', async (_name, method, url, payload, field, message) => {
    const response = await t.app.inject({ method, url, headers: adminHeaders, payload });
    expect(response.statusCode).toBe(400);
    const { error } = response.json() as { error: { code: string; message: string; details: { issues: { field: string }[] } } };
    expect(error.code).toBe('validation');
    expect(error.message).toMatch(message);
    expect(error.details.issues[0]!.field).toBe(field);
  });
});

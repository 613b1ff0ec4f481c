import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { authenticateKey, authorizeOrg, BOOTSTRAP_KEY_ID, hashApiKey } from '../../src/app/authenticate.ts';
import type { Access, Principal } from '../../src/app/authenticate.ts';
import { ForbiddenError, UnauthorizedError } from '../../src/domain/errors.ts';
import { uniqueId } from '../factories/index.ts';
import { hashApiKeySync } from '../../src/http/auth.ts';
import { bearer, createHttpTestContext, createOrgWithKeys, TEST_ADMIN_KEY, TEST_NOW } from '../support/http-context.ts';
import type { HttpTestContext } from '../support/http-context.ts';

/** Key authentication and the authorization matrix shared by every route file. */

describe('hashApiKeySync', () => {
  it('gives the stored hash of hashApiKey, so keys created before it still authenticate', async () => {
    for (const secret of ['mb_read_abc', TEST_ADMIN_KEY, 'ünïcødé ☃ \u{1F600}', '']) {
      expect(hashApiKeySync(secret)).toBe(await hashApiKey(secret));
    }
  });
});

describe('authorizeOrg', () => {
  const principal = (scope: Principal['scope'], orgId: string | null = 'a'): Principal => ({ keyId: 'k', scope, orgId });
  const table: [string, Principal, string, Access, boolean][] = [
    ['global admin, any org, admin', principal('admin', null), 'b', 'admin', true],
    ['org admin, own org, admin', principal('admin', 'a'), 'a', 'admin', true],
    ['org admin, own org, ingest', principal('admin', 'a'), 'a', 'ingest', true],
    ['org admin, other org, admin', principal('admin', 'a'), 'b', 'admin', false],
    ['org admin, other org, ingest', principal('admin', 'a'), 'b', 'ingest', false],
    ['read key, own org, read', principal('read'), 'a', 'read', true],
    ['read key, own org, ingest', principal('read'), 'a', 'ingest', false],
    ['read key, own org, admin', principal('read'), 'a', 'admin', false],
    ['read key, other org, read', principal('read'), 'b', 'read', false],
    ['ingest key, own org, ingest', principal('ingest'), 'a', 'ingest', true],
    ['ingest key, own org, read', principal('ingest'), 'a', 'read', false],
    ['ingest key, other org, ingest', principal('ingest'), 'b', 'ingest', false],
  ];
  it.each(table)('%s', (_name, who, orgId, needed, allowed) => {
    if (allowed) expect(() => authorizeOrg(who, orgId, needed)).not.toThrow();
    else expect(() => authorizeOrg(who, orgId, needed)).toThrow(ForbiddenError);
  });
});

describe('authenticateKey', () => {
  let t: HttpTestContext;
  let keys: { ingest: string; read: string; admin: string };
  let orgId: string;

  beforeAll(async () => {
    t = await createHttpTestContext('sqlite');
    orgId = uniqueId('auth');
    keys = await createOrgWithKeys(t.app, { id: orgId });
  });
  afterAll(() => t.close());

  it('resolves the bootstrap admin key and stored keys, and refuses anything else', async () => {
    expect(await authenticateKey(t.ctx, TEST_ADMIN_KEY)).toEqual({ keyId: BOOTSTRAP_KEY_ID, scope: 'admin', orgId: null });
    expect(await authenticateKey(t.ctx, keys.read)).toMatchObject({ scope: 'read', orgId });
    await expect(authenticateKey(t.ctx, undefined)).rejects.toThrow(UnauthorizedError);
    await expect(authenticateKey(t.ctx, `${keys.read}x`)).rejects.toThrow(UnauthorizedError);
    await expect(authenticateKey(t.ctx, TEST_ADMIN_KEY.slice(0, -1))).rejects.toThrow(UnauthorizedError);
  });

  it('has no bootstrap key when ADMIN_KEY is unset', async () => {
    const ctx = { ...t.ctx, config: { ...t.ctx.config, adminKey: undefined } };
    await expect(authenticateKey(ctx, TEST_ADMIN_KEY)).rejects.toThrow(UnauthorizedError);
  });

  it('records a key\u2019s use at most once a minute', async () => {
    const touch = vi.spyOn(t.ctx.storage, 'touchKey');
    const use = () => t.app.inject({ method: 'POST', url: '/api/v1/events', headers: bearer(keys.ingest), payload: [] });
    t.clock.set(TEST_NOW + 1_000);
    await use();
    t.clock.set(TEST_NOW + 30_000);
    await use();
    await use();
    t.clock.set(TEST_NOW + 61_001);
    await use();
    const ingestKey = await t.ctx.storage.findKeyByHash(await hashApiKey(keys.ingest));
    const calls = touch.mock.calls.filter(([keyId]) => keyId === ingestKey!.id);
    expect(calls.map(([, at]) => at)).toEqual([TEST_NOW + 1_000, TEST_NOW + 61_001]);
    touch.mockRestore();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { uniqueId } from '../factories/index.ts';
import { bearer, createHttpTestContext, createOrgWithKeys } from '../support/http-context.ts';
import type { HttpTestContext } from '../support/http-context.ts';

/**
 * Finding 6 of issue 13 (rate limits): there was no 429 anywhere. Each key now has a budget
 * per minute, and an address that keeps failing authentication is refused for a while; both
 * answer 429 with Retry-After in the standard error shape.
 */

describe('rate limits', () => {
  let t: HttpTestContext;
  afterEach(() => t?.close());

  it('answers 429 with Retry-After once a key used its budget, without touching other keys', async () => {
    t = await createHttpTestContext('sqlite', { env: { RATE_LIMIT_PER_KEY: '5' } });
    const orgId = uniqueId('rl');
    const keys = await createOrgWithKeys(t.app, { id: orgId });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}`, headers: bearer(keys.read) })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}`, headers: bearer(keys.read) });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/5 requests per minute/) } });
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}`, headers: bearer(keys.admin) })).statusCode).toBe(200);
  });

  it('refuses an address with 429 after repeated failed authentications', async () => {
    t = await createHttpTestContext('sqlite', { env: { RATE_LIMIT_AUTH_FAILURES: '3' } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await t.app.inject({ method: 'GET', url: '/api/v1/orgs', headers: bearer(`mb_read_guess${i}`) })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const refused = await t.app.inject({ method: 'GET', url: '/api/v1/orgs', headers: bearer('mb_read_guess9') });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
  });
});

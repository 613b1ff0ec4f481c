import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmetHeaders } from '../../src/http/security-headers.ts';
import { adminHeaders, createHttpTestContext } from '../support/http-context.ts';
import type { HttpTestContext } from '../support/http-context.ts';

/**
 * The security headers are read once from @fastify/helmet (with the app's options) and set on
 * every answer by one hook, instead of helmet rebuilding its middleware per request: every
 * answer, whatever its status, must still carry all of them.
 */
describe('security headers', () => {
  let t: HttpTestContext;
  beforeAll(async () => {
    t = await createHttpTestContext('sqlite');
  });
  afterAll(() => t.close());

  it("are @fastify/helmet's with the app's options: CSP of this origin only, no referrer, nosniff", async () => {
    const headers = await helmetHeaders();
    expect(headers['content-security-policy']).toBe(
      "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data: blob:;font-src 'self' data:;connect-src 'self';" +
        "worker-src 'self' blob:;object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'none'",
    );
    expect(headers).toMatchObject({ 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' });
    expect(headers).not.toHaveProperty('cross-origin-embedder-policy');
    expect(headers).not.toHaveProperty('content-type');
  });

  it('are on every answer: 200, 401, 404 (no route, no organization) and the probes', async () => {
    const expected = await helmetHeaders();
    const answers = [
      await t.app.inject({ url: '/api/v1/orgs', headers: adminHeaders }),
      await t.app.inject({ url: '/api/v1/orgs' }),
      await t.app.inject({ url: '/no/such/route' }),
      await t.app.inject({ url: '/api/v1/orgs/none/summary?start=yesterday-ish', headers: adminHeaders }), // unknown org: 404 after auth
      await t.app.inject({ url: '/health' }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 401, 404, 404, 200]);
    for (const answer of answers) expect(answer.headers).toMatchObject(expected);
  });
});

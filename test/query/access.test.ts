import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../factories/index.ts';
import { adminHeaders, bearer, createOrg, createQueryTestContext, ENGINES, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * Access control on every query endpoint: no key → 401; a read key sees only its own
 * organization (a foreign org is 403 whether or not it exists, with the same body); an
 * ingest key cannot read; global admin keys read every organization (and get 404 for a missing one), an organization's admin key only its own.
 */

const ORG_PATHS = [
  'metrics',
  'summary',
  'series',
  'overview',
  'live-summary',
  'live-series',
  'breakdown?metric=requests&dimension=model',
  'aggregates?metric=requests',
  'dashboard',
  'compare',
  'recent-activity',
  'workflow-usage',
  'export.csv',
];
const UNSTRACT_PATHS = ['overview/', 'summary/', 'series/', 'live-summary/', 'live-series/', 'recent-activity/', 'workflow-token-usage/', 'health/'];

const urlsFor = (org: string) => [
  ...ORG_PATHS.map((path) => `/api/v1/orgs/${org}/${path}`),
  ...UNSTRACT_PATHS.map((path) => `/api/v1/unstract/${org}/metrics/${path}`),
];

describe.each(ENGINES)('query access control (%s)', (engine) => {
  let t: QueryTestContext;
  let mine: TestOrg;
  let theirs: TestOrg;

  beforeAll(async () => {
    t = await createQueryTestContext(engine);
    mine = await createOrg(t.app, { id: uniqueId('mine'), timezone: 'UTC' });
    theirs = await createOrg(t.app, { id: uniqueId('theirs'), timezone: 'Europe/Zurich' });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  it.each(urlsFor('ORG'))('%s', async (template) => {
    const url = (org: string) => template.replace('ORG', org);
    const missingOrg = uniqueId('missing');

    const anonymous = await get(url(mine.id));
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await get(url(mine.id), bearer('mb_read_not-a-real-key'))).statusCode).toBe(401);

    expect((await get(url(mine.id), bearer(mine.keys.read))).statusCode).toBe(200);
    expect((await get(url(mine.id), bearer(mine.keys.admin))).statusCode).toBe(200);
    expect((await get(url(mine.id), bearer(theirs.keys.admin))).statusCode).toBe(403);
    expect((await get(url(mine.id), adminHeaders)).statusCode).toBe(200);

    const foreign = await get(url(theirs.id), bearer(mine.keys.read));
    const nonexistent = await get(url(missingOrg), bearer(mine.keys.read));
    expect(foreign.statusCode).toBe(403);
    expect(nonexistent.statusCode).toBe(403);
    expect(nonexistent.body.replace(missingOrg, theirs.id)).toBe(foreign.body);

    expect((await get(url(mine.id), bearer(mine.keys.ingest))).statusCode).toBe(403);
    expect((await get(url(missingOrg), adminHeaders)).statusCode).toBe(404);
  });

  it('a foreign read key is refused before its parameters are looked at', async () => {
    const response = await get(`/api/v1/orgs/${theirs.id}/summary?metric=does-not-exist&source=weekly`, bearer(mine.keys.read));
    expect(response.statusCode).toBe(403);
  });
});

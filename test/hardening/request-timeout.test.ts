import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../factories/index.ts';
import { POSTGRES_SELECTED } from '../support/engines.ts';
import { createOrg, createQueryTestContext, bearer, type QueryTestContext, type TestOrg } from '../query/support.ts';

/**
 * Per-request timeouts (issue 13, Abuse): a query that cannot finish must not hold its caller
 * forever. The slow query is real: another PostgreSQL session holds an exclusive lock on the
 * rollups, so the summary's read waits in the server. After REQUEST_TIMEOUT the caller gets a
 * 503 `timeout` in the error shape through its socket; once the lock goes, the same server
 * answers again. (SQLite reads are synchronous and cannot be abandoned mid-statement.)
 */

describe.runIf(POSTGRES_SELECTED)('request timeout (postgres)', () => {
  let t: QueryTestContext;
  let org: TestOrg;
  let base: string;
  let locker: pg.Client;

  beforeAll(async () => {
    t = await createQueryTestContext('postgres', { env: { REQUEST_TIMEOUT: '1s' } });
    org = await createOrg(t.app, { id: uniqueId('slow'), timezone: 'UTC' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    locker = new pg.Client({ connectionString: t.reportStoreTarget.postgresUrl });
    await locker.connect();
  }, 60_000);
  afterAll(async () => {
    await locker?.end();
    await t?.close();
  });

  it('abandons a query stuck behind a lock with 503 timeout, and answers again once it is free', async () => {
    const url = `${base}/api/v1/orgs/${org.id}/summary?start=2026-11-01&end=2026-11-02&metric=requests`;
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${t.reportStoreTarget.postgresSchema}".rollups IN ACCESS EXCLUSIVE MODE`);
    try {
      const stuck = await fetch(url, { headers: bearer(org.keys.read) });
      expect(stuck.status).toBe(503);
      expect(await stuck.json()).toEqual({ error: { code: 'timeout', message: expect.stringContaining('took too long') } });
    } finally {
      await locker.query('ROLLBACK');
    }
    const answered = await fetch(url, { headers: bearer(org.keys.read) });
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ summary: [{ metric_name: 'requests', total_value: 0 }] });
  }, 60_000);
});

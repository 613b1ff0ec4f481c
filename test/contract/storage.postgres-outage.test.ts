import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage, type PostgresStorage } from '../../src/adapters/postgres/postgres-storage.ts';
import { UnavailableError } from '../../src/domain/errors.ts';
import { makeEvent, makeOrg } from '../factories/index.ts';
import { POSTGRES_SELECTED } from '../support/engines.ts';
import { postgresTestSchemas, TEST_DATABASE_URL, uniqueSchemaName } from '../support/postgres.ts';
import { createThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

/**
 * Real PostgreSQL outages reach callers as the domain's UnavailableError (never a driver error
 * or a SQLSTATE), and the adapter serves again once the server does: a test-owned server
 * stopped and restarted, too many clients, and the adapter's own backends terminated.
 */
const H = 3_600_000;
const hourOf = (ts: number) => Math.floor(ts / H) * H;
const available = POSTGRES_SELECTED;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );
}

/**
 * A closed pool's backends leave the server a moment after `close()` resolves, so the test's
 * own clients wait for their slots instead of failing on the adapter's departing connection.
 */
async function connectWhenASlotFrees(url: string): Promise<pg.Client> {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      if ((error as { code?: string }).code !== '53300' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('PostgreSQL outages on a test-owned server', () => {
  let cluster: ThrowawayPostgres;
  let storage: PostgresStorage;
  const held: pg.Client[] = [];

  beforeAll(async () => {
    // Three connections in all (none reserved), so the test can exhaust them.
    cluster = await createThrowawayPostgres({ max_connections: 3, superuser_reserved_connections: 0 });
    storage = createPostgresStorage({ url: cluster.url, maxConnections: 1 });
    await storage.migrate();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(held.splice(0).map((client) => client.end().catch(() => undefined)));
    await storage?.close().catch(() => undefined);
    await cluster?.destroy();
  });

  it('a stopped server: every role rejects with UnavailableError, then serves again after a restart', async () => {
    const org = makeOrg();
    await storage.createOrg(org, 1);
    await cluster.stop('immediate');

    // Every rejection is taken at once: attempts settle in any order while earlier ones are awaited.
    for (const error of await Promise.all([
      storage.getOrg(org.id),
      storage.insertEvents(org.id, [makeEvent()], hourOf, 2),
      storage.readRollups({ orgId: org.id, granularity: 'hour', from: 0, to: 1 }),
      // Merging reads started together share one statement each kind (ADR 0025): all of them reject.
      storage.readRollups({ orgId: org.id, granularity: 'hour', from: 0, to: 1, mergeScopes: true, dimName: '' }),
      storage.readRollups({ orgId: org.id, granularity: 'day', from: 0, to: 1, mergeScopes: true, dimName: 'model', metrics: ['calls'] }),
      storage.readRollups({ orgId: org.id, granularity: 'day', from: 0, to: 1, mergeScopes: true, dimName: '', metrics: ['calls', 'cost'] }),
      storage.forEachEvent({ orgId: org.id, from: 0, to: 1 }, () => {}),
      storage.tryAcquireLease('outage', 'me', 1000, 3),
      storage.ping(),
    ].map(rejection))) {
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as UnavailableError).code).toBe('unavailable');
      expect((error as UnavailableError).cause).toBeDefined();
    }

    await cluster.start();
    expect(await storage.getOrg(org.id)).toMatchObject({ id: org.id });
    await storage.ping();
  }, 120_000);

  it('too many clients: a connection the server refuses is UnavailableError', async () => {
    // The adapter's one pooled connection is open; take the server's remaining slots, then make it reconnect.
    await storage.ping();
    await storage.close();
    for (let i = 0; i < 3; i++) held.push(await connectWhenASlotFrees(cluster.url));
    storage = createPostgresStorage({ url: cluster.url, maxConnections: 1 });
    const error = await rejection(storage.listOrgs());
    expect(error).toBeInstanceOf(UnavailableError);
    expect(((error as UnavailableError).cause as { code?: string }).code).toBe('53300');

    await held.pop()!.end();
    expect(Array.isArray(await storage.listOrgs())).toBe(true);
  }, 120_000);
});

describe.skipIf(!available)('PostgreSQL backends terminated under the adapter', () => {
  const schemas = postgresTestSchemas('outage');
  const schema = schemas.newSchema();
  const applicationName = uniqueSchemaName('app');
  let storage: PostgresStorage;
  let admin: pg.Client;

  beforeAll(async () => {
    storage = createPostgresStorage({ url: `${TEST_DATABASE_URL}?application_name=${applicationName}`, schema });
    await storage.migrate();
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await storage?.close();
    await schemas.cleanup();
  });

  it('pg_terminate_backend of its own connection mid-query (57P01) is UnavailableError; the next call succeeds', async () => {
    const org = makeOrg();
    await storage.createOrg(org, 1);
    // A lock the adapter's next read must wait for, so the read is in flight when its backend is killed.
    const locker = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${schema}.orgs IN ACCESS EXCLUSIVE MODE`);
      const read = rejection(storage.getOrg(org.id));
      await waitFor(async () => {
        const waiting = await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [applicationName]);
        return waiting.rowCount === 1;
      });
      const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      expect(killed.rowCount).toBeGreaterThan(0);
      const error = await read;
      expect(error).toBeInstanceOf(UnavailableError);
      expect(((error as UnavailableError).cause as { code?: string }).code).toBe('57P01');
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
    expect(await storage.getOrg(org.id)).toMatchObject({ id: org.id });
  }, 60_000);
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

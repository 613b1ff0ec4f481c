import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/adapters/postgres/db.ts';
import { createOrgStore } from '../../src/adapters/postgres/orgs-keys.ts';
import type { PostgresStorage } from '../../src/adapters/postgres/postgres-storage.ts';
import { LISTENER_NAME, RememberedOrgs } from '../../src/adapters/postgres/remembered-orgs.ts';
import { makeOrg } from '../factories/index.ts';
import { POSTGRES_SELECTED } from '../support/engines.ts';
import { postgresTestSchemas, TEST_DATABASE_URL } from '../support/postgres.ts';

/**
 * Organization rows kept between change notices (ADR 0022), on a real server: a kept row is
 * what a read answers until its notice arrives, a change by another process is seen once it
 * does, one by this process at once, and a lost listener stops every row from being kept.
 * "Kept" is observed by changing the row behind the adapter's back with the trigger off: only
 * a kept row can still answer the old version then.
 */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.runIf(POSTGRES_SELECTED)('organizations kept between change notices (PostgreSQL)', () => {
  const schemas = postgresTestSchemas('remembered_orgs');
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  let setup: PostgresStorage;
  let schema: string;
  const pool = () => createPool({ url: TEST_DATABASE_URL, schema, maxConnections: 2 });
  const opened: Array<{ close(): Promise<unknown> }> = [];

  beforeAll(async () => {
    await admin.connect();
    setup = await schemas.makeStorage();
    schema = setup.location.engine === 'postgres' ? setup.location.schema! : '';
  });
  afterAll(async () => {
    await Promise.all(opened.map((o) => o.close().catch(() => undefined)));
    await setup.close();
    await schemas.cleanup();
    await admin.end();
  });

  /** An org store of its own (a "process"), with its RememberedOrgs to ask whether it listens. */
  async function openProcess() {
    const p = pool();
    const remembered = new RememberedOrgs({ url: TEST_DATABASE_URL, schema });
    opened.push(remembered, { close: () => p.end() });
    const store = createOrgStore(p, remembered);
    return { store, remembered };
  }

  /** Bumps the version in SQL with the trigger off: no notice is sent. */
  async function bumpSilently(orgId: string): Promise<void> {
    await admin.query(`ALTER TABLE ${schema}.orgs DISABLE TRIGGER orgs_notify_change`);
    try {
      await admin.query(`UPDATE ${schema}.orgs SET data_version = data_version + 1 WHERE id = $1`, [orgId]);
    } finally {
      await admin.query(`ALTER TABLE ${schema}.orgs ENABLE TRIGGER orgs_notify_change`);
    }
  }

  const versionOf = async (store: Awaited<ReturnType<typeof openProcess>>['store'], orgId: string) => (await store.getOrgAndDataVersion(orgId))?.dataVersion;

  it("answers a kept row until its notice, then the new version; another process's bump is seen", async () => {
    const org = makeOrg();
    await setup.createOrg(org, 1);
    const reader = await openProcess();
    const writer = await openProcess();
    expect(await versionOf(reader.store, org.id)).toBe(0);
    await until(async () => reader.remembered.active, Boolean, 'the listener');
    // Read once listening: now kept.
    expect(await versionOf(reader.store, org.id)).toBe(0);
    await bumpSilently(org.id);
    expect(await versionOf(reader.store, org.id)).toBe(0);
    expect(await reader.store.getDataVersion(org.id)).toBe(0);

    // A bump with its notice, by another "process": 2 (the silent one counted too).
    await writer.store.bumpDataVersion(org.id);
    expect(await until(() => versionOf(reader.store, org.id), (v) => v === 2, 'the notice of the bump')).toBe(2);
    // A rename is a change too.
    await writer.store.updateOrg(org.id, { name: 'Renamed' }, 5);
    const renamed = await until(() => reader.store.getOrgAndDataVersion(org.id), (v) => v?.org.name === 'Renamed', 'the notice of the rename');
    expect(renamed?.dataVersion).toBe(2);
  });

  it("sees its own bump at once, without waiting for the notice", async () => {
    const org = makeOrg();
    await setup.createOrg(org, 1);
    const one = await openProcess();
    await versionOf(one.store, org.id);
    await until(async () => one.remembered.active, Boolean, 'the listener');
    expect(await versionOf(one.store, org.id)).toBe(0);
    for (let n = 1; n <= 5; n++) {
      expect(await one.store.bumpDataVersion(org.id)).toBe(n);
      expect(await versionOf(one.store, org.id)).toBe(n);
    }
  });

  it('keeps nothing of another schema, an unknown organization or a notice for another one', async () => {
    const [org, other] = [makeOrg(), makeOrg()];
    await setup.createOrg(org, 1);
    await setup.createOrg(other, 1);
    const reader = await openProcess();
    expect(await reader.store.getOrgAndDataVersion('no-such-org')).toBeNull();
    await until(async () => reader.remembered.active, Boolean, 'the listener');
    await versionOf(reader.store, org.id);
    await bumpSilently(org.id);
    // A notice naming the same id in another schema, and one for another organization, drop nothing.
    await admin.query("SELECT pg_notify('meterboard_org_changes', $1)", [`some_other_schema.${org.id}`]);
    await admin.query("SELECT pg_notify('meterboard_org_changes', $1)", [`${schema}.${other.id}`]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await versionOf(reader.store, org.id)).toBe(0);
    // Its own notice does.
    await admin.query("SELECT pg_notify('meterboard_org_changes', $1)", [`${schema}.${org.id}`]);
    expect(await until(() => versionOf(reader.store, org.id), (v) => v === 1, 'the notice')).toBe(1);
    // An organization created after a miss is found at once (misses are never kept).
    const late = makeOrg();
    expect(await reader.store.getOrgAndDataVersion(late.id)).toBeNull();
    await setup.createOrg(late, 2);
    expect((await reader.store.getOrgAndDataVersion(late.id))?.org.id).toBe(late.id);
  });

  it('drops every kept row when its listener is cut, reads the database meanwhile, and listens again', async () => {
    // The listener to cut must be the only one of this schema.
    await Promise.all(opened.splice(0).map((o) => o.close()));
    const org = makeOrg();
    await setup.createOrg(org, 1);
    const reader = await openProcess();
    await versionOf(reader.store, org.id);
    await until(async () => reader.remembered.active, Boolean, 'the listener');
    await versionOf(reader.store, org.id);
    await bumpSilently(org.id);
    expect(await versionOf(reader.store, org.id)).toBe(0);

    const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`${LISTENER_NAME}:${schema}`]);
    expect(cut.rowCount).toBe(1);
    // The silent bump is seen as soon as the loss is noticed: nothing is kept without a listener.
    expect(await until(() => versionOf(reader.store, org.id), (v) => v === 1, 'the database read after the cut')).toBe(1);
    await bumpSilently(org.id);
    expect(await versionOf(reader.store, org.id)).toBe(2);
    // Back after its retry; notices are followed again.
    await until(async () => reader.remembered.active, Boolean, 'the listener again');
    await versionOf(reader.store, org.id);
    await (await openProcess()).store.bumpDataVersion(org.id);
    expect(await until(() => versionOf(reader.store, org.id), (v) => v === 3, 'a notice after the reconnection')).toBe(3);
  });
});

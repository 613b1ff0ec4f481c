import { afterAll, describe, expect, it } from 'vitest';
import { AGGREGATION_LEASE_TTL_MS } from '../../src/app/org-lease.ts';
import { POSTGRES_SELECTED } from '../support/engines.ts';
import {
  ADMIN_HEADERS, createDeployment, createOrg, dirtyHourCount, kill9, startServe, type Deployment, type RunningServe,
} from './deployments.ts';
import { expectRollupsMatch, ingestBacklog, leaseOf, untilLeaseHeld } from './aggregation.ts';
import { IngestOracle } from './oracle.ts';
import { runCli, waitUntil, type CliProcess } from './support.ts';

/**
 * kill -9 of an aggregating process mid-pass (issue 13, finding 3). The killed holder's lease
 * must run out within the lease TTL (30 s, kept alive by heartbeats while the holder lives), so
 * another worker resumes the organization, and the rollups end equal to the oracle. The embedded
 * `serve` (the only process of its data directory) takes its own lease back at once after a
 * restart instead of waiting for it to expire.
 */

const HOUR = 3_600_000;
const BACKLOG_EVENTS = 40_000;

describe.runIf(POSTGRES_SELECTED)('kill -9 of a worker mid-pass (server mode, PostgreSQL + Redis)', () => {
  let deployment: Deployment | undefined;
  let serve: RunningServe | undefined;
  const workers: CliProcess[] = [];

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await serve?.process.stop();
    await deployment?.destroy();
  });

  it('another worker resumes once the dead holder lease expires (≤ 30 s), and totals are exact', async () => {
    deployment = await createDeployment('postgres');
    serve = await startServe(deployment);
    const orgId = 'kill-worker';
    await createOrg(serve.base, orgId);
    const anchor = Math.floor(Date.now() / HOUR) * HOUR;
    const oracle = new IngestOracle(`${orgId}-e`, anchor);
    await ingestBacklog({ base: serve.base, orgId }, oracle, BACKLOG_EVENTS);

    // The first worker starts aggregating at once (every second); it is killed while it holds the lease.
    const first = runCli(['worker'], { ...deployment.env, AGGREGATE_EVERY: '1s', WORKER_PORT: '0' });
    workers.push(first);
    const held = await untilLeaseHeld(deployment.probe, orgId, first);
    await kill9(first);
    const killedAt = Date.now();

    const orphan = await leaseOf(deployment.probe, orgId);
    // Still there: the pass was cut (a finished pass releases its lease), its work not cleared.
    expect(orphan?.holder).toBe(held.holder);
    expect(await dirtyHourCount(deployment.probe, orgId)).toBeGreaterThan(0);
    // Kept alive by heartbeats, so it runs out at most one TTL after the holder died.
    expect(orphan!.expiresAt - killedAt).toBeLessThanOrEqual(AGGREGATION_LEASE_TTL_MS);

    const second = runCli(['worker'], { ...deployment.env, AGGREGATE_EVERY: '1s', WORKER_PORT: '0' });
    workers.push(second);
    await waitUntil(async () => (await dirtyHourCount(deployment!.probe, orgId)) === 0 && (await leaseOf(deployment!.probe, orgId)) === null,
      'the second worker to finish the organization', AGGREGATION_LEASE_TTL_MS + 120_000, second);

    await expectRollupsMatch(serve.base, orgId, oracle, anchor);
    expect(second.child.exitCode).toBeNull();
  }, 420_000);
});

describe('kill -9 of the embedded serve mid-pass (SQLite)', () => {
  let deployment: Deployment | undefined;
  let serve: RunningServe | undefined;

  afterAll(async () => {
    await serve?.process.stop();
    await deployment?.destroy();
  });

  it('the restarted serve takes its own lease back at once, and totals are exact', async () => {
    // Aggregation only when asked: the test decides when a pass runs.
    deployment = await createDeployment('sqlite', { extraEnv: { AGGREGATE_EVERY: '1h' } });
    serve = await startServe(deployment);
    const orgId = 'kill-embedded';
    await createOrg(serve.base, orgId);
    const anchor = Math.floor(Date.now() / HOUR) * HOUR;
    const oracle = new IngestOracle(`${orgId}-e`, anchor);
    await ingestBacklog({ base: serve.base, orgId }, oracle, BACKLOG_EVENTS);

    const pass = fetch(`${serve.base}/api/v1/admin/aggregate`, { method: 'POST', headers: ADMIN_HEADERS, body: '{}' }).catch(() => null);
    const held = await untilLeaseHeld(deployment.probe, orgId, serve.process);
    await kill9(serve.process);
    await pass;
    const orphan = await leaseOf(deployment.probe, orgId);
    expect(orphan?.holder).toBe(held.holder);
    expect(await dirtyHourCount(deployment.probe, orgId)).toBeGreaterThan(0);

    // However slow the restart is on a busy machine, the lease stays as fresh as at the kill:
    // only taking it back (not its expiry) can let the restarted process aggregate.
    await deployment.probe.query('UPDATE leases SET expires_at = $1 WHERE name = $2', [Date.now() + 3_600_000, `aggregate:${orgId}`]);

    serve = await startServe(deployment);
    const response = await fetch(`${serve.base}/api/v1/admin/aggregate`, { method: 'POST', headers: ADMIN_HEADERS, body: '{}' });
    expect(response.status).toBe(200);
    // Not `skipped` (after waiting 60 s for a lease held by someone else): its own, taken back.
    expect(await response.json()).toMatchObject({ orgs: 1, skipped: [] });
    expect(await leaseOf(deployment.probe, orgId)).toBeNull();
    expect(await dirtyHourCount(deployment.probe, orgId)).toBe(0);
    await expectRollupsMatch(serve.base, orgId, oracle, anchor);
  }, 300_000);
});

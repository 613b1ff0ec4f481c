import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_SELECTED } from '../support/engines.ts';
import { ADMIN_HEADERS, createDeployment, createOrg, dirtyHourCount, startServe, startWorker, storedIdCounts, type Deployment, type RunningServe } from './deployments.ts';
import { expectRollupsMatch, ingestBacklog, leaseOf, untilLeaseHeld } from './aggregation.ts';
import { IngestOracle } from './oracle.ts';
import { waitUntil, type CliProcess } from './support.ts';

/**
 * A test-owned redis-server stopped while a worker aggregates and started again (issue 13):
 * `serve` keeps taking events and answering queries from the database meanwhile, BullMQ
 * reconnects by itself, the worker resumes its schedule without a restart, and nothing is lost:
 * the rollups end equal to the oracle. (Redis down at start: serve-without-redis.test.ts.)
 */

const HOUR = 3_600_000;
/** initdb and child processes starting on a busy 2-core machine can take minutes. */
const SETUP_TIMEOUT_MS = 300_000;

describe.runIf(POSTGRES_SELECTED)('Redis stopped during work (server mode)', () => {
  let deployment: Deployment;
  let serve: RunningServe;
  let worker: CliProcess;

  beforeAll(async () => {
    deployment = await createDeployment('postgres');
    serve = await startServe(deployment);
    worker = await startWorker(deployment, { AGGREGATE_EVERY: '1s' });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await worker?.stop();
    await serve?.process.stop();
    await deployment?.destroy();
  });

  it('serve answers from the database, the worker resumes when Redis returns, and totals are exact', async () => {
    const orgId = 'redis-outage';
    await createOrg(serve.base, orgId);
    const anchor = Math.floor(Date.now() / HOUR) * HOUR;
    const oracle = new IngestOracle(`${orgId}-e`, anchor);
    const target = { base: serve.base, orgId };
    await ingestBacklog(target, oracle, 20_000);

    // Redis goes away in the middle of a pass.
    await untilLeaseHeld(deployment.probe, orgId, worker);
    await deployment.redis!.stop();

    // Meanwhile: more events, acked and stored; queries answered from the database.
    await ingestBacklog(target, oracle, 5_000);
    const query = await fetch(`${serve.base}/api/v1/orgs/${orgId}/summary?start=${new Date(anchor - 48 * HOUR).toISOString()}&end=${new Date(anchor).toISOString()}`, { headers: ADMIN_HEADERS });
    expect(query.status).toBe(200);
    // The pass under way finishes (it needs only the database); then no job runs until Redis is back.
    await waitUntil(async () => (await leaseOf(deployment.probe, orgId)) === null, 'the pass under way to end', 120_000, worker);
    expect(await dirtyHourCount(deployment.probe, orgId)).toBeGreaterThan(0);
    expect(worker.child.exitCode).toBeNull();
    expect(serve.process.child.exitCode).toBeNull();

    await deployment.redis!.start();
    await waitUntil(async () => (await dirtyHourCount(deployment.probe, orgId)) === 0 && (await leaseOf(deployment.probe, orgId)) === null,
      'the worker to resume after Redis returned', 180_000, worker);
    expect(worker.child.exitCode).toBeNull();
    expect(serve.process.child.exitCode).toBeNull();

    const stored = await storedIdCounts(deployment.probe, orgId);
    const sent = oracle.batches.flatMap((batch) => batch.events.map((event) => event.id));
    expect(stored.size).toBe(sent.length);
    expect(sent.every((id) => stored.get(id) === 1)).toBe(true);
    await expectRollupsMatch(serve.base, orgId, oracle, anchor);
  }, 420_000);
});

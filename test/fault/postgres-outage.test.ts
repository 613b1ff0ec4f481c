import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_SELECTED } from '../support/engines.ts';
import { createThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';
import { createDeployment, createOrg, dirtyHourCount, startServe, startWorker, storedIdCounts, type Deployment, type RunningServe } from './deployments.ts';
import { expectRollupsMatch, ingestBacklog, leaseOf, untilLeaseHeld } from './aggregation.ts';
import { IngestLoad, IngestOracle, settleBatch, untilAcked, type IngestOracle as Oracle } from './oracle.ts';
import { waitUntil, type CliProcess } from './support.ts';

/**
 * A PostgreSQL server owned by this test (test/support/throwaway-postgres.ts) stopped and
 * started for real (`pg_ctl stop -m immediate`: every connection dropped at once, as a crash
 * or a failover does) under full-speed ingest and under an aggregation pass. `serve` answers
 * 503 meanwhile and recovers; the worker survives (issue 13, finding 2: it used to exit); no
 * acked event is lost or doubled and the rollups end equal to the oracle.
 */

const HOUR = 3_600_000;
/** initdb and child processes starting on a busy 2-core machine can take minutes. */
const SETUP_TIMEOUT_MS = 300_000;

describe.runIf(POSTGRES_SELECTED)('a PostgreSQL outage under ingest and under a pass', () => {
  let server: ThrowawayPostgres;
  let deployment: Deployment;
  let serve: RunningServe;
  let worker: CliProcess;
  const orgId = 'pg-outage';
  const anchor = Math.floor(Date.now() / HOUR) * HOUR;
  let oracle: Oracle;

  beforeAll(async () => {
    server = await createThrowawayPostgres();
    deployment = await createDeployment('postgres', { postgresUrl: server.url });
    serve = await startServe(deployment);
    worker = await startWorker(deployment, { AGGREGATE_EVERY: '1s' });
    await createOrg(serve.base, orgId);
    oracle = new IngestOracle(`${orgId}-e`, anchor);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await worker?.stop();
    await serve?.process.stop();
    await deployment?.destroy();
    await server?.destroy();
  });

  function expectAlive(): void {
    expect(serve.process.child.exitCode, serve.process.output()).toBeNull();
    expect(worker.child.exitCode, worker.output()).toBeNull();
  }

  it('under ingest: 503 while it is down, then recovery; nothing lost or stored twice', async () => {
    const target = { base: serve.base, orgId };
    const load = new IngestLoad(oracle, target, 100, 3);
    try {
      await untilAcked(oracle, 10, serve.process);
      await server.stop('immediate');
      await waitUntil(async () => oracle.unknown().some((batch) => batch.failure?.startsWith('503') === true), 'ingest to answer 503', 60_000, serve.process);
      await server.start();
      await untilAcked(oracle, 10, serve.process);
    } finally {
      await load.stop();
    }
    expectAlive();
    const unknown = oracle.unknown();
    // Refused with a clear status, never with a dropped connection: the process stayed up.
    for (const batch of unknown) expect(batch.failure).toMatch(/^503 /);

    // A batch is one transaction: stored whole or not at all. Then each is resent until counted.
    const before = await storedIdCounts(deployment.probe, orgId);
    for (const batch of unknown) {
      const stored = batch.events.filter((event) => before.has(event.id)).length;
      expect([0, batch.events.length]).toContain(stored);
      expect(await settleBatch(target, batch)).toBe(stored);
    }
    const after = await storedIdCounts(deployment.probe, orgId);
    const sent = oracle.batches.flatMap((batch) => batch.events.map((event) => event.id));
    expect(after.size).toBe(sent.length);
    expect(sent.every((id) => after.get(id) === 1)).toBe(true);
  }, 300_000);

  it('under a pass: the worker survives the outage and the totals end exact', async () => {
    await ingestBacklog({ base: serve.base, orgId }, oracle, 30_000);
    await untilLeaseHeld(deployment.probe, orgId, worker);
    await server.stop('immediate');
    // Long enough for the pass to fail on its connections and for the worker's next ticks.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expectAlive();
    await server.start();
    // The outage really cut the pass (a pass that had finished would prove nothing).
    expect(worker.output()).toMatch(/aggregation failed|job failed/);
    await waitUntil(async () => (await dirtyHourCount(deployment.probe, orgId)) === 0 && (await leaseOf(deployment.probe, orgId)) === null,
      'the worker to finish the organization after the outage', 180_000, worker);
    expectAlive();
    expect(oracle.unknown()).toEqual([]);
    await expectRollupsMatch(serve.base, orgId, oracle, anchor);
  }, 300_000);
});

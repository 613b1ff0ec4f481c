import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/engines.ts';
import { createDeployment, createOrg, kill9, startServe, storedIdCounts, type Deployment, type RunningServe } from './deployments.ts';
import { IngestLoad, IngestOracle, resendAll, untilAcked } from './oracle.ts';

/**
 * kill -9 of `serve` under full-speed ingest (issue 13): several senders post batches as fast as
 * the server answers; the server is killed while requests are in flight, restarted, killed
 * again. Afterwards every acked event is stored exactly once, every batch whose answer was lost
 * is stored whole or not at all, and a resend of everything answers `duplicate` exactly for the
 * events stored — all of the acked ones. Embedded SQLite and server-mode PostgreSQL.
 */

const KILLS = 2;
const BATCH = 100;
const SENDERS = 4;
/** Acked batches between a (re)start and the next kill: the server is really under load. */
const ACKED_BEFORE_KILL = 15;

describe.each(ENGINES)('kill -9 of serve under full-speed ingest (%s)', (engine) => {
  let deployment: Deployment;
  let serve: RunningServe | null = null;
  const orgId = `kill-serve-${engine}`;

  beforeAll(async () => {
    deployment = await createDeployment(engine);
  });

  afterAll(async () => {
    await serve?.process.stop();
    await deployment?.destroy();
  });

  it('stores every acked event once, and a resend answers duplicates exactly for them', async () => {
    serve = await startServe(deployment);
    await createOrg(serve.base, orgId);
    const oracle = new IngestOracle(`${orgId}-e`, Date.now());
    const load = new IngestLoad(oracle, { base: serve.base, orgId }, BATCH, SENDERS);
    try {
      for (let kill = 0; kill < KILLS; kill += 1) {
        await untilAcked(oracle, ACKED_BEFORE_KILL, serve.process);
        // Killed with requests in flight: the senders never wait for the server on their own.
        await kill9(serve.process);
        await load.pause();
        serve = await startServe(deployment);
        load.retarget({ base: serve.base, orgId });
        load.resume();
      }
      await untilAcked(oracle, ACKED_BEFORE_KILL, serve.process);
    } finally {
      await load.stop();
    }

    const acked = oracle.acked();
    const unknown = oracle.unknown();
    expect(acked.length).toBeGreaterThanOrEqual((KILLS + 1) * ACKED_BEFORE_KILL);
    // Requests cut by a kill (reset or refused) are the point of the test: there must be some.
    expect(unknown.length).toBeGreaterThan(0);

    const stored = await storedIdCounts(deployment.probe, orgId);
    const sentIds = new Set(oracle.batches.flatMap((batch) => batch.events.map((event) => event.id)));
    const problems: string[] = [];
    for (const [id, count] of stored) {
      if (count !== 1) problems.push(`${id} stored ${count} times`);
      if (!sentIds.has(id)) problems.push(`${id} stored but never sent`);
    }
    for (const batch of acked) for (const event of batch.events) if (!stored.has(event.id)) problems.push(`acked ${event.id} not stored`);
    const storedOfUnknown = unknown.map((batch) => batch.events.filter((event) => stored.has(event.id)).length);
    unknown.forEach((batch, index) => {
      const n = storedOfUnknown[index]!;
      if (n !== 0 && n !== batch.events.length) problems.push(`batch ${batch.events[0]!.id}… (${batch.failure}) stored in part: ${n} of ${batch.events.length}`);
    });
    expect(problems.slice(0, 20)).toEqual([]);

    // The resend: the same batches again, in order. Acked ones are duplicates to the last event;
    // a lost-answer batch is a duplicate exactly when it had been committed.
    const answers = await resendAll({ base: serve.base, orgId }, oracle.batches);
    const expected = oracle.batches.map((batch) => {
      const wasStored = batch.events.filter((event) => stored.has(event.id)).length;
      return { accepted: batch.events.length - wasStored, duplicates: wasStored };
    });
    expect(answers).toEqual(expected);
    for (const [index, batch] of acked.entries()) expect(answers[oracle.batches.indexOf(batch)], `acked batch ${index}`).toEqual({ accepted: 0, duplicates: batch.events.length });

    const after = await storedIdCounts(deployment.probe, orgId);
    expect(after.size).toBe(sentIds.size);
    expect([...after.values()].every((count) => count === 1)).toBe(true);
  }, 600_000);
});

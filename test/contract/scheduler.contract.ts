import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobSchedule, ScheduledJob, Scheduler } from '../../src/ports/scheduler.ts';

/**
 * The Scheduler contract, run on every adapter (embedded timers with a manual clock; BullMQ
 * on a real Redis under a unique prefix): jobs run on their schedule, one at a time, a failing
 * run does not stop the next ones, runNow runs a job on demand with a validated payload, and
 * stop waits for the run in progress and ends the schedule.
 */
export interface SchedulerHarness {
  /** A scheduler in the role that runs jobs (embedded; BullMQ `worker`). */
  create(): Scheduler;
  /** The interval the adapter can afford in a test (real Redis needs real time). */
  everyMs: number;
  /** Lets time pass: the manual clock advances, real time is slept. */
  elapse(ms: number): Promise<void>;
  /** Releases what create() made beyond the scheduler (e.g. Redis keys). */
  cleanup(): Promise<void>;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A job bound the way src/worker/bind-jobs.ts binds registry entries (zod payload, error naming the field). */
function job<P>(name: string, schedule: JobSchedule, payload: z.ZodType<P>, run: (payload: P) => Promise<unknown>): ScheduledJob {
  return {
    name,
    schedule,
    parsePayload(data) {
      const parsed = payload.safeParse(data ?? {});
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0]!;
      throw new Error(`invalid payload for job "${name}": ${issue.path.join('.')}: ${issue.message}`);
    },
    run: (data) => run(data as P),
  };
}

const noPayload = z.object({}).strict();

export function schedulerContract(adapter: string, harness: SchedulerHarness): void {
  describe(`Scheduler contract: ${adapter}`, () => {
    let scheduler: Scheduler | null = null;
    const start = async (jobs: ScheduledJob[]) => {
      scheduler = harness.create();
      await scheduler.start(jobs);
      return scheduler;
    };
    afterEach(async () => {
      await scheduler?.stop();
      scheduler = null;
      await harness.cleanup();
    });

    /** Elapses time in small steps until `done()` or `maxMs` passed. */
    async function until(done: () => boolean, maxMs: number): Promise<void> {
      const step = Math.max(20, Math.floor(harness.everyMs / 5));
      for (let waited = 0; !done() && waited < maxMs; waited += step) await harness.elapse(step);
    }

    it('runs an interval job and a cron job on their schedules, and an on-demand job only when asked', async () => {
      const every = harness.everyMs;
      const runs = { every: 0, cron: 0, onDemand: 0 };
      await start([
        job('every-job', { everyMs: every }, noPayload, async () => (runs.every += 1)),
        job('cron-job', { cron: '* * * * * *' }, noPayload, async () => (runs.cron += 1)),
        job('on-demand-job', { onDemand: true }, noPayload, async () => (runs.onDemand += 1)),
      ]);
      const window = Math.max(4 * every, 4000);
      await harness.elapse(window);
      // Whole periods elapsed, give or take the ends (BullMQ runs an interval job at once; a loaded Redis lags a little).
      expect(runs.every).toBeGreaterThanOrEqual(Math.floor(window / every) - 2);
      expect(runs.every).toBeLessThanOrEqual(Math.floor(window / every) + 1);
      expect(runs.cron).toBeGreaterThanOrEqual(Math.floor(window / 1000) - 2);
      expect(runs.cron).toBeLessThanOrEqual(Math.floor(window / 1000) + 1);
      expect(runs.onDemand).toBe(0);
      await expect(scheduler!.runNow('on-demand-job')).resolves.toBe(1);
    });

    it('runs one job at a time: scheduled ticks and run-now requests wait for the run in progress', async () => {
      const gate = deferred();
      let active = 0;
      let maxActive = 0;
      let runs = 0;
      await start([
        job('slow-job', { everyMs: harness.everyMs }, noPayload, async () => {
          runs += 1;
          active += 1;
          maxActive = Math.max(maxActive, active);
          await gate.promise;
          active -= 1;
          return runs;
        }),
      ]);
      const requests = [scheduler!.runNow('slow-job'), scheduler!.runNow('slow-job'), scheduler!.runNow('slow-job')];
      await until(() => runs > 0, 20 * harness.everyMs);
      await harness.elapse(3 * harness.everyMs);
      // Held by the gate: ticks and requests piled up, but only one run started.
      expect(runs).toBe(1);
      expect(active).toBe(1);
      gate.resolve();
      const results = await Promise.all(requests);
      expect(results.every((result) => typeof result === 'number' && result >= 1)).toBe(true);
      expect(maxActive).toBe(1);
    });

    it('survives failing runs: the schedule goes on and the next run-now succeeds', async () => {
      let failing = true;
      let failures = 0;
      let successes = 0;
      await start([
        job('flaky-job', { everyMs: harness.everyMs }, noPayload, async () => {
          if (failing) {
            failures += 1;
            throw new Error('flaky dependency down');
          }
          successes += 1;
          return 'ok';
        }),
      ]);
      await until(() => failures >= 2, 20 * harness.everyMs);
      expect(failures).toBeGreaterThanOrEqual(2);
      await expect(scheduler!.runNow('flaky-job')).rejects.toThrow(/flaky dependency down/);
      failing = false;
      await expect(scheduler!.runNow('flaky-job')).resolves.toBe('ok');
      const before = successes;
      await until(() => successes >= before + 2, 20 * harness.everyMs);
      expect(successes).toBeGreaterThanOrEqual(before + 2);
    });

    it('runs a job now with its payload, and refuses a bad payload or an unknown job without running anything', async () => {
      const received: unknown[] = [];
      await start([
        job('echo-job', { onDemand: true }, z.object({ orgId: z.string().min(1), dryRun: z.boolean().default(false) }).strict(), async (payload) => {
          received.push(payload);
          return { echoed: payload };
        }),
      ]);
      await expect(scheduler!.runNow('echo-job', { orgId: 'acme' })).resolves.toEqual({ echoed: { orgId: 'acme', dryRun: false } });
      await expect(scheduler!.runNow('echo-job', { orgId: 'acme', dryRun: 'yes' })).rejects.toThrow(/dryRun/);
      await expect(scheduler!.runNow('echo-job', {})).rejects.toThrow(/orgId/);
      await expect(scheduler!.runNow('no-such-job', {})).rejects.toThrow(/no-such-job/);
      // Different payloads are separate runs, in order.
      const [a, b] = await Promise.all([scheduler!.runNow('echo-job', { orgId: 'a' }), scheduler!.runNow('echo-job', { orgId: 'b', dryRun: true })]);
      expect([a, b]).toEqual([{ echoed: { orgId: 'a', dryRun: false } }, { echoed: { orgId: 'b', dryRun: true } }]);
      expect(received).toHaveLength(3);
    });

    it('stops cleanly: waits for the run in progress, then nothing runs any more', async () => {
      const gate = deferred();
      let started = 0;
      let finished = 0;
      let ticks = 0;
      await start([
        job('long-job', { onDemand: true }, noPayload, async () => {
          started += 1;
          await gate.promise;
          finished += 1;
          return 'done';
        }),
        job('ticking-job', { everyMs: harness.everyMs }, noPayload, async () => (ticks += 1)),
      ]);
      const run = scheduler!.runNow('long-job');
      // BullMQ may lose the completion event while closing; the handler's own record is the truth.
      run.catch(() => undefined);
      await until(() => started === 1 && ticks >= 1, 20 * harness.everyMs);
      expect(started).toBe(1);
      let stopped = false;
      const stopping = scheduler!.stop().then(() => (stopped = true));
      await harness.elapse(harness.everyMs);
      expect(stopped).toBe(false);
      gate.resolve();
      await stopping;
      scheduler = null;
      expect(finished).toBe(1);
      const ticksAtStop = ticks;
      await harness.elapse(4 * harness.everyMs);
      expect(ticks).toBe(ticksAtStop);
    });
  });
}

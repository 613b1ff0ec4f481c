import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedScheduler } from '../../src/adapters/scheduler/embedded-scheduler.ts';
import { SerialJobRunner } from '../../src/adapters/scheduler/job-runner.ts';
import { silentLogger, type Logger } from '../../src/ports/logger.ts';
import type { JobSchedule, ScheduledJob, Scheduler } from '../../src/ports/scheduler.ts';
import { jobPayloadSchemas, parseJobPayload } from '../../src/worker/bind-jobs.ts';

/** The embedded scheduler: one run at a time per job, runNow after the run in progress, stop waits. */

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A job without a payload schema, as the registry would bind it. */
function job(name: string, schedule: JobSchedule, run: () => Promise<unknown>): ScheduledJob {
  return { name, schedule, parsePayload: (data) => data, run };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('SerialJobRunner', () => {
  it('skips ticks while a run is in progress', async () => {
    const gate = deferred();
    let runs = 0;
    const runner = new SerialJobRunner('aggregate', async () => {
      runs += 1;
      await gate.promise;
    }, silentLogger);
    const first = runner.tick();
    await settle();
    await runner.tick();
    await runner.tick();
    expect(runs).toBe(1);
    gate.resolve();
    await first;
    expect(runner.busy).toBe(false);
    await runner.tick();
    expect(runs).toBe(2);
  });

  it('runNow waits for the run in progress, then runs once for all waiting callers', async () => {
    const gates = [deferred(), deferred()];
    const order: string[] = [];
    let runs = 0;
    const runner = new SerialJobRunner('aggregate', async () => {
      const run = runs++;
      order.push(`start ${run}`);
      await gates[run]!.promise;
      order.push(`end ${run}`);
      return run;
    }, silentLogger);
    void runner.tick();
    await settle();
    const a = runner.runNow();
    const b = runner.runNow();
    await settle();
    expect(order).toEqual(['start 0']);
    gates[0]!.resolve();
    await settle();
    expect(order).toEqual(['start 0', 'end 0', 'start 1']);
    gates[1]!.resolve();
    expect(await a).toBe(1);
    expect(await b).toBe(1);
    expect(runs).toBe(2);
  });

  it('logs a failed tick and rejects a failed runNow; the next run still happens', async () => {
    const errors: unknown[] = [];
    const log: Logger = { ...silentLogger, error: (obj) => errors.push(obj) };
    let fail = true;
    const runner = new SerialJobRunner('cleanup', async () => {
      if (fail) throw new Error('database down');
      return 'ok';
    }, log);
    await runner.tick();
    expect(errors).toHaveLength(1);
    await expect(runner.runNow()).rejects.toThrow('database down');
    fail = false;
    await expect(runner.runNow()).resolves.toBe('ok');
  });
});

describe('embedded scheduler', () => {
  let scheduler: Scheduler | undefined;
  afterEach(() => scheduler?.stop());

  it('runs aggregate on its interval, never two at once, and runNow returns the job result', async () => {
    let running = 0;
    let overlapped = false;
    let runs = 0;
    scheduler = createEmbeddedScheduler({ log: silentLogger });
    await scheduler.start([
      job('aggregate', { everyMs: 1000 }, async () => {
        running += 1;
        overlapped ||= running > 1;
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 1500));
        running -= 1;
        return { buckets: runs };
      }),
      job('cleanup', { cron: '0 0 3 * * *' }, async () => 'cleaned'),
    ]);
    const deadline = Date.now() + 10_000;
    while (runs === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toBeGreaterThan(0);
    const result = await scheduler.runNow('aggregate');
    expect(result).toEqual({ buckets: runs });
    expect(overlapped).toBe(false);
    expect(await scheduler.runNow('cleanup')).toBe('cleaned');
    await expect(scheduler.runNow('daily-reports')).rejects.toThrow(/not scheduled/);
  });

  it('stop waits for the run in progress', async () => {
    const gate = deferred();
    let finished = false;
    scheduler = createEmbeddedScheduler({ log: silentLogger });
    await scheduler.start([
      job('aggregate', { everyMs: 60_000 }, async () => {
        await gate.promise;
        finished = true;
      }),
      job('cleanup', { cron: '0 0 3 * * *' }, async () => null),
    ]);
    const run = scheduler.runNow('aggregate');
    const stopped = scheduler.stop();
    setTimeout(gate.resolve, 50);
    await stopped;
    expect(finished).toBe(true);
    await run;
    scheduler = undefined;
  });
});

describe('job payloads', () => {
  it('accepts the payloads the schedulers send and rejects anything else', () => {
    expect(parseJobPayload('aggregate', { trigger: 'schedule' })).toEqual({ trigger: 'schedule' });
    expect(parseJobPayload('cleanup', null)).toEqual({ trigger: 'schedule', dryRun: false });
    expect(() => parseJobPayload('cleanup', { dryRun: 'yes' })).toThrow();
    expect(() => parseJobPayload('aggregate', { orgId: 'x' })).toThrow();
    expect(Object.keys(jobPayloadSchemas).sort()).toEqual(['aggregate', 'aggregate-org', 'alert-notifications', 'cleanup', 'daily-reports', 'sources-pull']);
  });
});

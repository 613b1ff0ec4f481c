import type { Timers } from '../../src/adapters/scheduler/timers.ts';

export interface ManualTimers extends Timers {
  /** Moves time forward, firing every due timer in order and letting its job's promises settle. */
  advance(ms: number): Promise<void>;
}

/** Lets pending promise chains (a job's handler and the scheduler's bookkeeping) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Fake time for the in-process scheduler: nothing fires until the test advances it. */
export function manualTimers(startMs: number): ManualTimers {
  let now = startMs;
  let sequence = 0;
  const pending: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { at: now + Math.max(0, ms), seq: sequence++, fn, cancelled: false };
      pending.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        await settle();
        const due = pending.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
        if (!due) break;
        pending.splice(pending.indexOf(due), 1);
        now = due.at;
        due.fn();
      }
      now = end;
      await settle();
    },
  };
}

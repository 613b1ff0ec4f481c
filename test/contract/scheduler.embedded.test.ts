import { createEmbeddedScheduler } from '../../src/adapters/scheduler/embedded-scheduler.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { manualTimers, type ManualTimers } from '../support/manual-timers.ts';
import { schedulerContract } from './scheduler.contract.ts';

// A whole second, so the cron job's `* * * * * *` ticks land inside the window the contract measures.
const START = Date.UTC(2026, 0, 1, 0, 0, 0);
let timers: ManualTimers = manualTimers(START);

schedulerContract('embedded (croner patterns, manual clock)', {
  create() {
    timers = manualTimers(START);
    return createEmbeddedScheduler({ log: silentLogger, timers });
  },
  everyMs: 1000,
  elapse: (ms) => timers.advance(ms),
  cleanup: async () => undefined,
});

import { openThreadStorage } from './adapters/threads/thread-storage.ts';
import { dayFoldThreadData, serveDayFolds } from './adapters/threads/serve-day-folds.ts';
import { recomputeHours, type TierSelection } from './app/recompute-buckets.ts';
import { silentLogger } from './ports/logger.ts';

/**
 * Entry of an aggregation thread (ADR 0016), wiring like compose.ts: its own storage
 * connection to the aggregating process's database, and the same recomputation a single-thread
 * pass runs, restricted to the hour and day tiers of the share's days (the aggregating thread
 * rebuilds weeks and months once every share is written). The catalog, retention and the
 * pass's instant come with each share, so a thread computes exactly what the caller would.
 * Resolved next to compose.ts: `.ts` from sources, `.js` in dist.
 */

const HOUR_AND_DAY: TierSelection = { hour: true, day: true, week: false, month: false };

const storage = openThreadStorage(dayFoldThreadData().storage);

serveDayFolds(
  async (share, hooks) => {
    const deps = {
      eventReader: storage,
      rollupReader: storage,
      rollupWriter: storage,
      clock: { now: () => share.now },
      metrics: share.metrics,
      log: silentLogger,
      config: { retention: share.retention },
    };
    const stats = await recomputeHours(deps, share.org, share.hours, HOUR_AND_DAY, hooks);
    return {
      events: stats.events,
      expiredHours: stats.expiredHours,
      hour: { buckets: stats.tiers.hour.buckets, rows: stats.tiers.hour.rows },
      day: { buckets: stats.tiers.day.buckets, rows: stats.tiers.day.rows },
    };
  },
  () => storage.close(),
);

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourcePullRecord, SourceStateStore } from '../../src/sources/ports.ts';

/** The same assertions on every SourceStateStore adapter (SQLite, PostgreSQL). */
export function describeSourceStateContract(engine: string, open: () => Promise<{ store: SourceStateStore; close(): Promise<void> }>): void {
  describe(`SourceStateStore contract on ${engine}`, () => {
    let store: SourceStateStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await open());
    });
    afterAll(() => close());

    const pull = (overrides: Partial<SourcePullRecord>): SourcePullRecord => ({
      source: 'src-a',
      at: 1_000,
      ok: true,
      rowsRead: 10,
      accepted: 8,
      rejected: 1,
      skipped: 1,
      error: null,
      lastRejection: null,
      newestChangeUs: 5_000_000,
      ...overrides,
    });

    it('has no cursor before the first pull, then keeps the later of two cursors', async () => {
      expect(await store.getCursor('src-a', 'usage')).toBeNull();
      await store.advanceCursor('src-a', 'usage', { changeUs: 1_700_000_000_123_456, rowKey: 'b' }, 1);
      expect(await store.getCursor('src-a', 'usage')).toEqual({ changeUs: 1_700_000_000_123_456, rowKey: 'b' });
      // Earlier positions (a re-pull with --since) never move it back.
      await store.advanceCursor('src-a', 'usage', { changeUs: 1_700_000_000_123_455, rowKey: 'z' }, 2);
      await store.advanceCursor('src-a', 'usage', { changeUs: 1_700_000_000_123_456, rowKey: 'a' }, 3);
      expect(await store.getCursor('src-a', 'usage')).toEqual({ changeUs: 1_700_000_000_123_456, rowKey: 'b' });
      // Same instant, later key (byte order, as the keyset query compares): forward.
      await store.advanceCursor('src-a', 'usage', { changeUs: 1_700_000_000_123_456, rowKey: 'bb' }, 4);
      expect(await store.getCursor('src-a', 'usage')).toEqual({ changeUs: 1_700_000_000_123_456, rowKey: 'bb' });
      expect(await store.getCursor('src-a', 'page_usage')).toBeNull();
      expect(await store.getCursor('src-b', 'usage')).toBeNull();
    });

    it('adds pull counts up, records failures with a streak, and a success clears the streak', async () => {
      await store.recordPull(pull({ at: 1_000 }));
      await store.recordPull(pull({ at: 2_000, ok: false, error: 'ECONNREFUSED', rowsRead: 0, accepted: 0, rejected: 0, skipped: 0, newestChangeUs: null }));
      await store.recordPull(pull({ at: 3_000, ok: false, error: 'timeout', rowsRead: 0, accepted: 0, rejected: 0, skipped: 0, newestChangeUs: null }));
      let [status] = (await store.listStatus()).filter((s) => s.source === 'src-a');
      expect(status).toEqual({
        source: 'src-a',
        lastPullAt: 3_000,
        lastSuccessAt: 1_000,
        lastError: 'timeout',
        lastErrorAt: 3_000,
        consecutiveFailures: 2,
        rowsRead: 10,
        eventsAccepted: 8,
        eventsRejected: 1,
        rowsSkipped: 1,
        lastRejection: null,
        newestChangeUs: 5_000_000,
      });
      await store.recordPull(pull({ at: 4_000, lastRejection: 'x: pages must not be negative', newestChangeUs: 4_000_000 }));
      [status] = (await store.listStatus()).filter((s) => s.source === 'src-a');
      expect(status).toMatchObject({
        lastPullAt: 4_000,
        lastSuccessAt: 4_000,
        consecutiveFailures: 0,
        // The last error stays visible after recovery, with its time.
        lastError: 'timeout',
        lastErrorAt: 3_000,
        rowsRead: 20,
        eventsAccepted: 16,
        lastRejection: 'x: pages must not be negative',
        newestChangeUs: 5_000_000,
      });
    });

    it('lists sources in name order', async () => {
      await store.recordPull(pull({ source: 'a-first' }));
      expect((await store.listStatus()).map((s) => s.source)).toEqual(['a-first', 'src-a']);
    });

    it('remembers the last snapshot period and never goes back', async () => {
      expect(await store.lastSnapshotPeriod('src-a', 'total_users')).toBeNull();
      await store.recordSnapshot('src-a', 'total_users', 7_200_000, 42, 7_300_000);
      await store.recordSnapshot('src-a', 'total_users', 3_600_000, 41, 7_400_000);
      expect(await store.lastSnapshotPeriod('src-a', 'total_users')).toBe(7_200_000);
      await store.recordSnapshot('src-a', 'total_users', 10_800_000, 43, 10_900_000);
      expect(await store.lastSnapshotPeriod('src-a', 'total_users')).toBe(10_800_000);
      expect(await store.lastSnapshotPeriod('src-b', 'total_users')).toBeNull();
    });
  });
}

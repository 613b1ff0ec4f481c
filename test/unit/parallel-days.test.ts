import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../../src/adapters/sqlite/sqlite-storage.ts';
import { MIN_PARALLEL_DAYS, parallelShares } from '../../src/app/parallel-days.ts';
import { ALL_TIERS } from '../../src/app/recompute-buckets.ts';
import { aggregationThreadCount, createDayFolder } from '../../src/compose.ts';
import type { ParallelDayFolder } from '../../src/ports/day-folder.ts';
import { silentLogger } from '../../src/ports/logger.ts';

/** When a round is cut into shares for aggregation threads, and how the wiring decides on threads (ADR 0016). */

const DAY = 86_400_000;
const days = (n: number) => Array.from({ length: n }, (_, i) => Date.UTC(2026, 10, 1) + i * DAY);
const folder = (threads: number): ParallelDayFolder => ({
  threads,
  writeSlot: async () => () => undefined,
  foldDays: async () => ({ events: 0, expiredHours: 0, hour: { buckets: 0, rows: 0 }, day: { buckets: 0, rows: 0 } }),
  close: async () => undefined,
});

describe('parallelShares', () => {
  it('cuts a backlog into contiguous shares of (nearly) equal size, the first for this thread, covering every day once', () => {
    const round = days(31);
    const shares = parallelShares({ dayFolder: folder(1) }, ALL_TIERS, round, -Infinity)!;
    expect(shares.days.map((share) => share.length)).toEqual([16, 15]);
    expect(shares.days.flat()).toEqual(round);
    const three = parallelShares({ dayFolder: folder(2) }, ALL_TIERS, round, -Infinity)!;
    expect(three.days.map((share) => share.length)).toEqual([10, 11, 10]);
    expect(three.days.flat()).toEqual(round);
  });

  it('never cuts shares of fewer than two days', () => {
    expect(parallelShares({ dayFolder: folder(3) }, ALL_TIERS, days(5), -Infinity)!.days.map((share) => share.length)).toEqual([3, 2]);
  });

  it('folds in process: no folder, no threads, fewer days than the minimum, some tiers only, a day past day retention', () => {
    expect(parallelShares({}, ALL_TIERS, days(10), -Infinity)).toBeNull();
    expect(parallelShares({ dayFolder: folder(0) }, ALL_TIERS, days(10), -Infinity)).toBeNull();
    expect(parallelShares({ dayFolder: folder(1) }, ALL_TIERS, days(MIN_PARALLEL_DAYS - 1), -Infinity)).toBeNull();
    expect(parallelShares({ dayFolder: folder(1) }, ALL_TIERS, days(MIN_PARALLEL_DAYS), -Infinity)).not.toBeNull();
    expect(parallelShares({ dayFolder: folder(1) }, { ...ALL_TIERS, week: false }, days(10), -Infinity)).toBeNull();
    const round = days(10);
    expect(parallelShares({ dayFolder: folder(1) }, ALL_TIERS, round, round[1]!)).toBeNull();
  });
});

describe('aggregation threads in the wiring', () => {
  it('auto is one thread per core, at most four; a configured number is kept', () => {
    expect(aggregationThreadCount({ aggregationThreads: 'auto' })).toBe(Math.max(1, Math.min(os.availableParallelism() - 1, 4)));
    expect(aggregationThreadCount({ aggregationThreads: 3 })).toBe(3);
  });

  it('no folder for one thread or a database no thread can reopen (in memory)', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'meterboard-folder-'));
    const file = createSqliteStorage({ dataDir: dir });
    const memory = createSqliteStorage({ file: ':memory:' });
    try {
      expect(createDayFolder(file, 1, silentLogger)).toBeUndefined();
      expect(createDayFolder(memory, 2, silentLogger)).toBeUndefined();
      const two = createDayFolder(file, 2, silentLogger)!;
      expect(two.threads).toBe(1);
      await two.close();
    } finally {
      await file.close();
      await memory.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

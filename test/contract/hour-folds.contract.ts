import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FoldedEvent, FoldRange } from '../../src/ports/storage.ts';
import { FACTORY_BASE_TS as T0, makeEvent, makeFileExecution, makeOrg } from '../factories/index.ts';
import type { EngineStorage } from './storage.contract.ts';

/**
 * Incremental hour folds (ADR 0019), the same assertions for every engine: `forEachNewEvent`
 * hands over exactly the events stored after a watermark, hour folds are taken, put and
 * dropped per organization, and marks say when an hour must be folded again from all its events.
 */
export function describeHourFoldsContract(engine: string, makeStorage: () => Promise<EngineStorage>): void {
  describe(`hour folds contract (${engine})`, () => {
    let storage: EngineStorage;
    beforeAll(async () => {
      storage = await makeStorage();
    });
    afterAll(async () => {
      await storage?.close();
    });

    const H = 3_600_000;
    const utcHourOf = (ts: number) => Math.floor(ts / H) * H;
    const NOW = T0 + 1000 * H;
    async function newOrg(): Promise<string> {
      const org = makeOrg();
      await storage.createOrg(org, NOW);
      return org.id;
    }
    async function idsOf(orgId: string, ranges: readonly FoldRange[]): Promise<{ ids: Array<[number, number]>; watermark: string; events: number }> {
      const seen: Array<[number, number]> = [];
      const { events, watermark } = await storage.forEachNewEvent(orgId, ranges, (event: FoldedEvent, range) => seen.push([range, event.ts]));
      return { ids: seen, watermark, events };
    }

    it('visits every event of a range without a watermark, and after it only those stored since', async () => {
      const org = await newOrg();
      await storage.insertEvents(org, [makeEvent({ ts: T0 + 10 }), makeEvent({ ts: T0 + 20 }), makeEvent({ ts: T0 + H + 5 })], utcHourOf, NOW);
      const first = await idsOf(org, [{ from: T0, to: T0 + 2 * H, after: null }]);
      expect(first.ids).toEqual([
        [0, T0 + 10],
        [0, T0 + 20],
        [0, T0 + H + 5],
      ]);
      expect(first.events).toBe(3);
      expect(typeof first.watermark).toBe('string');

      // Nothing stored since: nothing new.
      expect((await idsOf(org, [{ from: T0, to: T0 + 2 * H, after: first.watermark }])).ids).toEqual([]);

      await storage.insertEvents(org, [makeEvent({ ts: T0 + 15 }), makeEvent({ ts: T0 + H + 1 })], utcHourOf, NOW + 1);
      await storage.insertEvents(await newOrg(), [makeEvent({ ts: T0 + 16 })], utcHourOf, NOW + 1);
      const second = await idsOf(org, [
        { from: T0, to: T0 + H, after: first.watermark },
        { from: T0 + H, to: T0 + 2 * H, after: null },
      ]);
      // Ranges in the order given, each in time order; the second range has no watermark.
      expect(second.ids).toEqual([
        [0, T0 + 15],
        [1, T0 + H + 1],
        [1, T0 + H + 5],
      ]);
      // The newer watermark holds everything read so far.
      expect((await idsOf(org, [{ from: T0, to: T0 + 2 * H, after: second.watermark }])).ids).toEqual([]);
    });

    it('reads the new events of hours that start at :30 and :45 and of ranges over two hours, edges included, in time order', async () => {
      const org = await newOrg();
      const half = T0 + 30 * 60_000;
      const threeQuarters = T0 + 5 * H + 45 * 60_000;
      const long = { from: T0 + 10 * H + 15 * 60_000, to: T0 + 13 * H };
      const around = (from: number, to: number) => [from - 1, from, from + 15 * 60_000 - 1, from + 15 * 60_000, to - 1, to];
      const instants = [...around(half, half + H), ...around(threeQuarters, threeQuarters + H), ...around(long.from, long.to)];
      await storage.insertEvents(org, instants.map((ts) => makeEvent({ ts })), utcHourOf, NOW);
      const ranges = (after: string | null): FoldRange[] => [
        { from: half, to: half + H, after },
        { from: threeQuarters, to: threeQuarters + H, after },
        { ...long, after },
      ];
      const { watermark } = await idsOf(org, ranges(null));

      // Stored since the watermark: the same instants again (one of them twice), in another order.
      const later = [...instants].reverse();
      await storage.insertEvents(org, [...later.map((ts) => makeEvent({ ts })), makeEvent({ ts: half })], utcHourOf, NOW + 1);
      const inRange = (from: number, to: number) => instants.filter((ts) => ts >= from && ts < to);
      const expected = (index: number, from: number, to: number, extra: number[] = []) =>
        [...inRange(from, to), ...extra].sort((a, b) => a - b).map((ts): [number, number] => [index, ts]);
      expect((await idsOf(org, ranges(watermark))).ids).toEqual([
        ...expected(0, half, half + H, [half]),
        ...expected(1, threeQuarters, threeQuarters + H),
        ...expected(2, long.from, long.to),
      ]);
    });

    it('leaves superseded events out, new or old, and a resent event is not new', async () => {
      const org = await newOrg();
      const error = makeFileExecution('exec-f', 'a.pdf', 'ERROR', T0 + 100);
      await storage.insertEvents(org, [error], utcHourOf, NOW);
      const { watermark } = await idsOf(org, [{ from: T0, to: T0 + H, after: null }]);
      const older = makeFileExecution('exec-f', 'a.pdf', 'QUEUED', T0 + 50);
      const done = makeFileExecution('exec-f', 'a.pdf', 'COMPLETED', T0 + 200);
      await storage.insertEvents(org, [older, error], utcHourOf, NOW + 1);
      await storage.insertEvents(org, [done], utcHourOf, NOW + 2);
      expect((await idsOf(org, [{ from: T0, to: T0 + H, after: watermark }])).ids).toEqual([[0, T0 + 200]]);
      expect((await idsOf(org, [{ from: T0, to: T0 + H, after: null }])).ids).toEqual([[0, T0 + 200]]);
    });

    it('marks ask for a refold when an event lost its visibility or when set by hand, and keep it until cleared', async () => {
      const org = await newOrg();
      const error = makeFileExecution('exec-r', 'a.pdf', 'ERROR', T0 + 5);
      await storage.insertEvents(org, [error, makeEvent({ ts: T0 + 2 * H })], utcHourOf, NOW);
      const refoldOf = async () => new Map((await storage.listDirty(org, 10)).map((m) => [m.hourStart, m.refold]));
      expect(await refoldOf()).toEqual(
        new Map([
          [T0, false],
          [T0 + 2 * H, false],
        ]),
      );
      await storage.clearDirty(await storage.listDirty(org, 10));

      // A later status in another hour dethrones the head of hour T0: T0 loses an event it counted.
      await storage.insertEvents(org, [makeFileExecution('exec-r', 'a.pdf', 'COMPLETED', T0 + H + 5)], utcHourOf, NOW + 1);
      expect(await refoldOf()).toEqual(
        new Map([
          [T0, true],
          [T0 + H, false],
        ]),
      );
      // A plain insert into T0 afterwards does not take the refold back.
      await storage.insertEvents(org, [makeEvent({ ts: T0 + 7 })], utcHourOf, NOW + 2);
      expect((await refoldOf()).get(T0)).toBe(true);
      await storage.clearDirty(await storage.listDirty(org, 10));

      await storage.markDirty(org, [T0 + 3 * H]);
      expect(await refoldOf()).toEqual(new Map([[T0 + 3 * H, true]]));
    });

    it('takes, puts, prunes and drops hour folds per organization', async () => {
      const org = await newOrg();
      const other = await newOrg();
      await storage.putHourFolds(org, new Map([[T0, 'w1'], [T0 + H, 'w2'], [T0 + 5 * H, 'w3']]), 0);
      await storage.putHourFolds(other, new Map([[T0, 'x1']]), 0);

      expect(await storage.takeHourFolds(org, [T0, T0 + 2 * H])).toEqual(new Map([[T0, 'w1']]));
      // Taken means gone.
      expect(await storage.takeHourFolds(org, [T0])).toEqual(new Map());
      // Replaced, and hours before the prune instant dropped (those just put are kept).
      await storage.putHourFolds(org, new Map([[T0, 'w4'], [T0 + H, 'w5']]), T0 + 2 * H);
      expect(await storage.takeHourFolds(org, [T0, T0 + H, T0 + 5 * H])).toEqual(new Map([[T0, 'w4'], [T0 + H, 'w5'], [T0 + 5 * H, 'w3']]));

      await storage.putHourFolds(org, new Map([[T0, 'w6'], [T0 + H, 'w7'], [T0 + 2 * H, 'w8']]), 0);
      await storage.dropHourFolds(org, T0 + H, T0 + 2 * H);
      expect(await storage.takeHourFolds(org, [T0, T0 + H, T0 + 2 * H])).toEqual(new Map([[T0, 'w6'], [T0 + 2 * H, 'w8']]));

      await storage.putHourFolds(org, new Map([[T0, 'w9']]), 0);
      await storage.deleteAllRollups(org);
      expect(await storage.takeHourFolds(org, [T0])).toEqual(new Map());
      // The other organization's folds were never touched.
      expect(await storage.takeHourFolds(other, [T0])).toEqual(new Map([[T0, 'x1']]));
    });
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/domain/errors.ts';
import type { RollupRow } from '../../src/domain/rollup-types.ts';
import { mergeAllPartials } from '../../src/domain/rollup-math.ts';
import { encodeValues } from '../../src/domain/sketch.ts';
import type { RollupQuery, Storage } from '../../src/ports/storage.ts';
import {
  FACTORY_BASE_TS as T0,
  makeEvent,
  makeFileExecution,
  makeOrg,
  makeRollupRow,
  sortRollupRows,
  uniqueId,
} from '../factories/index.ts';

/**
 * The storage contract: the same assertions for every engine. `makeStorage` returns a ready
 * (migrated) Storage; the suite closes it at the end. Every test works in its own organizations
 * (random ids), lease names and key hashes, so the suite can run concurrently with other suites
 * against one shared database. Global operations (retention) work on instants decades in the
 * past that no other suite uses, and assert exactly only what belongs to this test.
 */
/** The port plus the adapter's diagnostic name. */
export type EngineStorage = Storage & { readonly engine: string };

export function describeStorageContract(engine: string, makeStorage: () => Promise<EngineStorage>): void {
  describe(`Storage contract (${engine})`, () => {
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
    const sortedNumbers = (xs: readonly number[]) => [...new Set(xs)].sort((a, b) => a - b);
    async function newOrg(): Promise<string> {
      const org = makeOrg();
      await storage.createOrg(org, NOW);
      return org.id;
    }
    async function visibleStatuses(orgId: string): Promise<Array<[string, unknown]>> {
      const events = await storage.scanEvents({ orgId, from: 0, to: T0 + 10_000 * H });
      return events.map((e) => [e.id, e.attrs['status']]);
    }
    const comparable = (rows: readonly RollupRow[]) =>
      sortRollupRows(rows).map((r) => ({ ...r, sketch: r.sketch === null ? null : Array.from(r.sketch) }));

    describe('basics', () => {
      it('answers ping, reports its engine, and migrate() is idempotent', async () => {
        await storage.ping();
        expect(['sqlite', 'postgres']).toContain(storage.engine);
        expect(await storage.migrate()).toEqual([]);
      });
    });

    describe('organizations', () => {
      it('creates, reads, lists and updates an organization', async () => {
        const input = makeOrg({ timezone: 'Europe/Zurich' });
        const created = await storage.createOrg(input, NOW);
        expect(created).toEqual({ ...input, createdAt: NOW, updatedAt: NOW });
        expect(await storage.getOrg(input.id)).toEqual(created);
        expect(await storage.getOrg(uniqueId('missing'))).toBeNull();
        const listed = await storage.listOrgs();
        expect(listed.find((o) => o.id === input.id)).toEqual(created);

        const updated = await storage.updateOrg(input.id, { timezone: 'Asia/Kolkata' }, NOW + 5);
        expect(updated).toEqual({ ...created, timezone: 'Asia/Kolkata', updatedAt: NOW + 5 });
        const renamed = await storage.updateOrg(input.id, { name: 'Renamed' }, NOW + 9);
        expect(renamed).toEqual({ ...created, name: 'Renamed', timezone: 'Asia/Kolkata', updatedAt: NOW + 9 });
        expect(await storage.getOrg(input.id)).toEqual(renamed);
        expect(await storage.updateOrg(uniqueId('missing'), { name: 'x' }, NOW)).toBeNull();
      });

      it('rejects a duplicate organization id with ConflictError and keeps the original', async () => {
        const input = makeOrg();
        await storage.createOrg(input, NOW);
        await expect(storage.createOrg({ ...input, name: 'Other' }, NOW + 1)).rejects.toBeInstanceOf(ConflictError);
        expect((await storage.getOrg(input.id))?.name).toBe(input.name);
      });

      it('bumps the data version monotonically per organization', async () => {
        const a = await newOrg();
        const b = await newOrg();
        const a0 = await storage.getDataVersion(a);
        const b0 = await storage.getDataVersion(b);
        const a1 = await storage.bumpDataVersion(a);
        const a2 = await storage.bumpDataVersion(a);
        expect(a1).toBeGreaterThan(a0);
        expect(a2).toBeGreaterThan(a1);
        expect(await storage.getDataVersion(a)).toBe(a2);
        expect(await storage.getDataVersion(b)).toBe(b0);
      });

      it('reads an organization and its data version together, as getOrg and getDataVersion do apart', async () => {
        const a = await newOrg();
        expect(await storage.getOrgAndDataVersion(a)).toEqual({ org: await storage.getOrg(a), dataVersion: 0 });
        await storage.bumpDataVersion(a);
        const bumped = await storage.bumpDataVersion(a);
        await storage.updateOrg(a, { timezone: 'Asia/Kolkata' }, NOW + 5);
        const both = await storage.getOrgAndDataVersion(a);
        expect(both?.org).toEqual(await storage.getOrg(a));
        expect(both?.org.timezone).toBe('Asia/Kolkata');
        expect(both?.dataVersion).toBe(Number(bumped));
        expect(typeof both?.dataVersion).toBe('number');
        expect(await storage.getOrgAndDataVersion(uniqueId('absent'))).toBeNull();
      });
    });

    describe('API keys', () => {
      it('creates, finds by hash, lists per organization, touches and revokes keys', async () => {
        const org = await newOrg();
        const other = await newOrg();
        const hash = uniqueId('hash');
        const key = await storage.createKey({ id: uniqueId('key'), orgId: org, scope: 'ingest', name: 'ci', keyHash: hash }, NOW);
        expect(key).toMatchObject({ orgId: org, scope: 'ingest', name: 'ci', keyHash: hash, createdAt: NOW, lastUsedAt: null, revokedAt: null });
        await storage.createKey({ id: uniqueId('key'), orgId: other, scope: 'read', name: 'x', keyHash: uniqueId('hash') }, NOW);
        expect(await storage.findKeyByHash(hash)).toEqual(key);
        expect(await storage.findKeyByHash(uniqueId('nohash'))).toBeNull();
        expect(await storage.listKeys(org)).toEqual([key]);

        await storage.touchKey(key.id, NOW + 100);
        expect((await storage.findKeyByHash(hash))?.lastUsedAt).toBe(NOW + 100);

        expect(await storage.revokeKey(other, key.id, NOW + 200)).toBe(false);
        expect(await storage.revokeKey(org, key.id, NOW + 200)).toBe(true);
        expect(await storage.revokeKey(org, key.id, NOW + 300)).toBe(false);
        expect(await storage.findKeyByHash(hash)).toBeNull();
        const [listed] = await storage.listKeys(org);
        expect(listed).toMatchObject({ id: key.id, revokedAt: NOW + 200, lastUsedAt: NOW + 100 });
      });
    });

    describe('event ingest', () => {
      it('stores a batch once: the same batch again is all duplicates and marks nothing', async () => {
        const org = await newOrg();
        const batch = [0, 1, 2, 3].map((i) => makeEvent({ ts: T0 + i * 40 * 60_000 }));
        const first = await storage.insertEvents(org, batch, utcHourOf, NOW);
        expect(first.inserted).toEqual([true, true, true, true]);
        expect(sortedNumbers(first.dirtyHours)).toEqual(sortedNumbers(batch.map((e) => utcHourOf(e.ts))));
        expect(first.dirtyHours.length).toBe(new Set(first.dirtyHours).size);
        const again = await storage.insertEvents(org, batch, utcHourOf, NOW + 1);
        expect(again).toEqual({ inserted: [false, false, false, false], dirtyHours: [] });
        expect(await storage.countEvents(org)).toBe(4);
        expect(await storage.countEvents()).toBeGreaterThanOrEqual(4);
      });

      it('reports duplicates inside one batch and keeps the first copy', async () => {
        const org = await newOrg();
        const a = makeEvent({ attrs: { model: 'first' } });
        const b = makeEvent();
        const result = await storage.insertEvents(org, [a, b, { ...a, attrs: { model: 'second' } }, b], utcHourOf, NOW);
        expect(result.inserted).toEqual([true, true, false, false]);
        const stored = await storage.scanEvents({ orgId: org, from: T0, to: T0 + 1 });
        expect(stored.find((e) => e.id === a.id)?.attrs).toEqual({ model: 'first' });
        expect(stored).toHaveLength(2);
      });

      it('scopes idempotency keys per organization', async () => {
        const [a, b] = [await newOrg(), await newOrg()];
        const event = makeEvent();
        expect((await storage.insertEvents(a, [event], utcHourOf, NOW)).inserted).toEqual([true]);
        expect((await storage.insertEvents(b, [event], utcHourOf, NOW)).inserted).toEqual([true]);
      });

      it('round-trips every field and scans [from, to) in ts order with filters', async () => {
        const org = await newOrg();
        const other = await newOrg();
        const attrs = { s: 'text', n: 12.5, i: -3, yes: true, no: false, nothing: null, unicode: 'Zürich ✓' };
        const events = [
          makeEvent({ ts: T0 + 3 * H, type: 'api_request', project: 'p1', tag: 'eu', attrs }),
          makeEvent({ ts: T0 + 1 * H, type: 'llm_call', project: 'p1', tag: '' }),
          makeEvent({ ts: T0 + 2 * H, type: 'page_usage', project: 'p2', tag: 'eu' }),
          makeEvent({ ts: T0, type: 'llm_call', project: 'p2', tag: '' }),
          makeEvent({ ts: T0 + 4 * H, type: 'llm_call', project: 'p1', tag: '' }),
        ];
        await storage.insertEvents(org, events, utcHourOf, NOW);
        await storage.insertEvents(other, [makeEvent({ ts: T0 + H })], utcHourOf, NOW);

        const all = await storage.scanEvents({ orgId: org, from: T0, to: T0 + 4 * H });
        expect(all.map((e) => e.ts)).toEqual([T0, T0 + H, T0 + 2 * H, T0 + 3 * H]);
        expect(all.find((e) => e.type === 'api_request')).toEqual({ ...events[0], orgId: org, receivedAt: NOW });

        const ids = async (scan: Partial<Parameters<Storage['scanEvents']>[0]>) =>
          (await storage.scanEvents({ orgId: org, from: T0, to: T0 + 10 * H, ...scan })).map((e) => e.id);
        expect(await ids({ types: ['llm_call'] })).toEqual([events[3]!.id, events[1]!.id, events[4]!.id]);
        expect(await ids({ types: ['page_usage', 'api_request'] })).toEqual([events[2]!.id, events[0]!.id]);
        expect(await ids({ project: 'p1' })).toEqual([events[1]!.id, events[0]!.id, events[4]!.id]);
        expect(await ids({ tag: 'eu' })).toEqual([events[2]!.id, events[0]!.id]);
        expect(await ids({ project: 'p1', tag: 'eu', types: ['api_request'] })).toEqual([events[0]!.id]);
        expect(await ids({ from: T0 + H + 1, to: T0 + 3 * H })).toEqual([events[2]!.id]);
        expect(await ids({ types: [] })).toEqual([]);
        expect(await storage.eventTimestampsRange(org)).toEqual({ min: T0, max: T0 + 4 * H });
        expect(await storage.eventTimestampsRange(await newOrg())).toBeNull();
      });

      it('forEachEvent visits what scanEvents returns, by timestamp, in a fixed order, across many batches', async () => {
        const org = await newOrg();
        // More rows than a SQLite chunk (4,096) and many socket reads on PostgreSQL, in four
        // hours, two projects, two tags, three types, with runs of equal timestamps that
        // straddle those batch boundaries, and superseded events. `seq` tells the events apart.
        const events = Array.from({ length: 4_500 }, (_, i) =>
          makeEvent({
            ts: T0 + Math.floor(i / 3) * 9_000,
            type: ['llm_call', 'page_usage', 'api_request'][i % 3]!,
            project: i % 4 < 2 ? 'p1' : 'p2',
            tag: i % 5 === 0 ? 'eu' : '',
            attrs: { seq: i },
          }),
        );
        await storage.insertEvents(org, events, utcHourOf, NOW);
        await storage.insertEvents(org, [makeFileExecution('x', 'a.pdf', 'ERROR', T0 + 10), makeFileExecution('x', 'a.pdf', 'COMPLETED', T0 + 20)], utcHourOf, NOW);

        const scans = [
          { from: T0, to: T0 + 4 * H },
          { from: T0 + H + 1, to: T0 + 3 * H },
          { from: T0, to: T0 + 4 * H, types: ['page_usage', 'file_execution'] },
          { from: T0, to: T0 + 4 * H, project: 'p2' },
          { from: T0, to: T0 + 4 * H, tag: 'eu', types: ['llm_call'] },
          { from: T0, to: T0 + 4 * H, types: [] },
        ];
        const folded = async (scan: (typeof scans)[number]) => {
          const visited: Array<Record<string, unknown>> = [];
          const count = await storage.forEachEvent({ orgId: org, ...scan }, (event) => visited.push({ ...event }));
          expect(count).toBe(visited.length);
          return visited;
        };
        // Equal timestamps may come in another order than scanEvents' (ts, id) (the adapter's
        // own, ADR 0010), but the same one on every scan of the same rows.
        const inAnyOrder = (events: ReadonlyArray<Record<string, unknown>>) =>
          [...events].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        for (const scan of scans) {
          const visited = await folded(scan);
          const scanned = await storage.scanEvents({ orgId: org, ...scan });
          expect(inAnyOrder(visited)).toEqual(inAnyOrder(scanned.map(({ orgId, type, ts, project, tag, attrs }) => ({ orgId, type, ts, project, tag, attrs }))));
          expect(visited.map((event) => event['ts'])).toEqual(scanned.map((event) => event.ts));
          expect(await folded(scan)).toEqual(visited);
        }
        // Every event once, the superseded file execution left out.
        const statuses: unknown[] = [];
        expect(await storage.forEachEvent({ orgId: org, from: T0, to: T0 + 4 * H }, (event) => {
          if (event.attrs['execution_id'] === 'x') statuses.push(event.attrs['status']);
        })).toBe(4_501);
        expect(statuses).toEqual(['COMPLETED']);
      });

      it('forEachEvent stops at a throwing visit, rejects with its error and leaves the store usable', async () => {
        const org = await newOrg();
        const events = Array.from({ length: 2_500 }, (_, i) => makeEvent({ ts: T0 + i * 1000 }));
        await storage.insertEvents(org, events, utcHourOf, NOW);
        const stop = new Error('visitor failed');
        // More failed scans than a PostgreSQL pool has connections: none may stay checked out.
        for (let attempt = 0; attempt < 12; attempt++) {
          let seen = 0;
          const scan = storage.forEachEvent({ orgId: org, from: T0, to: T0 + H }, () => {
            if (++seen === 2_100) throw stop;
          });
          await expect(scan).rejects.toBe(stop);
          expect(seen).toBe(2_100);
        }
        expect(await storage.insertEvents(org, [makeEvent({ ts: T0 + 10 })], utcHourOf, NOW)).toMatchObject({ inserted: [true] });
        expect(await storage.forEachEvent({ orgId: org, from: T0, to: T0 + H }, () => {})).toBe(2_501);
      });

      it('lists recent events newest first, limited and optionally restricted to types', async () => {
        const org = await newOrg();
        const events = [0, 1, 2, 3, 4].map((i) => makeEvent({ ts: T0 + i * 1000, type: i % 2 === 0 ? 'llm_call' : 'page_usage' }));
        await storage.insertEvents(org, events, utcHourOf, NOW);
        const recent = await storage.recentEvents(org, [], 3);
        expect(recent.map((e) => e.ts)).toEqual([T0 + 4000, T0 + 3000, T0 + 2000]);
        const pages = await storage.recentEvents(org, ['page_usage'], 10);
        expect(pages.map((e) => e.id)).toEqual([events[3]!.id, events[1]!.id]);
        expect(pages[0]?.attrs).toEqual(events[3]!.attrs);
      });
    });

    describe('superseding', () => {
      it('a later status replaces an earlier one and marks both hours dirty', async () => {
        const org = await newOrg();
        const error = makeFileExecution('exec-1', 'a.pdf', 'ERROR', T0);
        const done = makeFileExecution('exec-1', 'a.pdf', 'COMPLETED', T0 + 2 * H + 5);
        const unrelated = makeFileExecution('exec-1', 'b.pdf', 'ERROR', T0 + 30);
        await storage.insertEvents(org, [error, unrelated], utcHourOf, NOW);
        const second = await storage.insertEvents(org, [done], utcHourOf, NOW + 1000);
        expect(second.inserted).toEqual([true]);
        expect(sortedNumbers(second.dirtyHours)).toEqual([utcHourOf(T0), utcHourOf(T0 + 2 * H)]);
        expect(await visibleStatuses(org)).toEqual([
          [unrelated.id, 'ERROR'],
          [done.id, 'COMPLETED'],
        ]);
        const recent = await storage.recentEvents(org, ['file_execution'], 10);
        expect(recent.map((e) => e.id)).toEqual([done.id, unrelated.id]);
        // countEvents counts stored events, superseded ones included.
        expect(await storage.countEvents(org)).toBe(3);
      });

      it('an older status arriving second stays superseded', async () => {
        const org = await newOrg();
        const done = makeFileExecution('exec-2', 'a.pdf', 'COMPLETED', T0 + 3 * H);
        const late = makeFileExecution('exec-2', 'a.pdf', 'ERROR', T0 + H);
        await storage.insertEvents(org, [done], utcHourOf, NOW);
        const second = await storage.insertEvents(org, [late], utcHourOf, NOW + 1000);
        expect(second.inserted).toEqual([true]);
        expect(second.dirtyHours).toContain(utcHourOf(T0 + H));
        expect(await visibleStatuses(org)).toEqual([[done.id, 'COMPLETED']]);
        // Re-sending the superseded one changes nothing.
        expect(await storage.insertEvents(org, [late], utcHourOf, NOW + 2000)).toEqual({ inserted: [false], dirtyHours: [] });
        expect(await visibleStatuses(org)).toEqual([[done.id, 'COMPLETED']]);
      });

      it('breaks ties by ts, then received time, then id; within one batch too', async () => {
        const org = await newOrg();
        const inBatch = [
          makeFileExecution('exec-3', 'a.pdf', 'RUNNING', T0, { id: uniqueId('a') }),
          makeFileExecution('exec-3', 'a.pdf', 'COMPLETED', T0 + 10),
          makeFileExecution('exec-3', 'a.pdf', 'ERROR', T0 + 5),
        ];
        await storage.insertEvents(org, inBatch, utcHourOf, NOW);
        expect(await visibleStatuses(org)).toEqual([[inBatch[1]!.id, 'COMPLETED']]);
        // Same ts, received later: the later arrival wins.
        const sameTs = makeFileExecution('exec-3', 'a.pdf', 'ERROR', T0 + 10);
        await storage.insertEvents(org, [sameTs], utcHourOf, NOW + 1);
        expect(await visibleStatuses(org)).toEqual([[sameTs.id, 'ERROR']]);
        // Same ts and received time: the larger id wins.
        const low = makeFileExecution('exec-4', 'a.pdf', 'ERROR', T0, { id: 'tie-a' });
        const high = makeFileExecution('exec-4', 'a.pdf', 'COMPLETED', T0, { id: 'tie-b' });
        const tieOrg = await newOrg();
        await storage.insertEvents(tieOrg, [high, low], utcHourOf, NOW);
        expect(await visibleStatuses(tieOrg)).toEqual([['tie-b', 'COMPLETED']]);
      });

      it('same ts and same received time in separate inserts: the larger id wins, a smaller one stays superseded', async () => {
        const org = await newOrg();
        const middle = makeFileExecution('exec-6', 'a.pdf', 'RUNNING', T0, { id: 'same-m' });
        const larger = makeFileExecution('exec-6', 'a.pdf', 'COMPLETED', T0, { id: 'same-z' });
        const smaller = makeFileExecution('exec-6', 'a.pdf', 'ERROR', T0, { id: 'same-a' });
        await storage.insertEvents(org, [middle], utcHourOf, NOW);
        expect((await storage.insertEvents(org, [larger], utcHourOf, NOW)).dirtyHours).toEqual([utcHourOf(T0)]);
        expect(await visibleStatuses(org)).toEqual([['same-z', 'COMPLETED']]);
        expect((await storage.insertEvents(org, [smaller], utcHourOf, NOW)).inserted).toEqual([true]);
        expect(await visibleStatuses(org)).toEqual([['same-z', 'COMPLETED']]);
      });

      it('compares ids by UTF-8 bytes, not UTF-16 units, when ts and received time tie', async () => {
        const org = await newOrg();
        // U+FFFF sorts after U+1F600's leading surrogate in UTF-16, but before it in UTF-8 bytes.
        const bmp = makeFileExecution('exec-7', 'a.pdf', 'ERROR', T0, { id: 'id-\uffff' });
        const astral = makeFileExecution('exec-7', 'a.pdf', 'COMPLETED', T0, { id: 'id-\u{1f600}' });
        await storage.insertEvents(org, [astral, bmp], utcHourOf, NOW);
        expect(await visibleStatuses(org)).toEqual([[astral.id, 'COMPLETED']]);
      });

      it('out-of-order arrival: whatever order three statuses arrive in, the latest counts and only changed hours are marked', async () => {
        const org = await newOrg();
        const [first, second, third] = [0, 1, 2].map((i) => makeFileExecution('exec-8', 'a.pdf', `S${i}`, T0 + i * 2 * H));
        const arrivedThird = await storage.insertEvents(org, [third!], utcHourOf, NOW);
        expect(arrivedThird.dirtyHours).toEqual([utcHourOf(third!.ts)]);
        const arrivedFirst = await storage.insertEvents(org, [first!], utcHourOf, NOW + 1);
        // The loser's own hour is recomputed (unchanged); the winner's hour is not touched.
        expect(arrivedFirst.dirtyHours).toEqual([utcHourOf(first!.ts)]);
        const arrivedSecond = await storage.insertEvents(org, [second!], utcHourOf, NOW + 2);
        expect(arrivedSecond.dirtyHours).toEqual([utcHourOf(second!.ts)]);
        expect(await visibleStatuses(org)).toEqual([[third!.id, 'S2']]);
        // Later still: a new winner arrives with a resent loser; its hour and the old winner's change.
        const fourth = makeFileExecution('exec-8', 'a.pdf', 'S3', T0 + 7 * H);
        const result = await storage.insertEvents(org, [first!, fourth], utcHourOf, NOW + 3);
        expect(result.inserted).toEqual([false, true]);
        expect(result.dirtyHours).toEqual([utcHourOf(third!.ts), utcHourOf(fourth.ts)]);
        expect(await visibleStatuses(org)).toEqual([[fourth.id, 'S3']]);
      });

      it('a resend of a loser, alone or with other events, changes nothing and marks nothing for it', async () => {
        const org = await newOrg();
        const winner = makeFileExecution('exec-9', 'a.pdf', 'COMPLETED', T0 + 3 * H);
        const loser = makeFileExecution('exec-9', 'a.pdf', 'ERROR', T0 + H);
        await storage.insertEvents(org, [loser, winner], utcHourOf, NOW);
        expect(await storage.insertEvents(org, [loser], utcHourOf, NOW + 1)).toEqual({ inserted: [false], dirtyHours: [] });
        const other = makeEvent({ ts: T0 + 5 * H });
        expect(await storage.insertEvents(org, [loser, other], utcHourOf, NOW + 2)).toEqual({ inserted: [false, true], dirtyHours: [utcHourOf(other.ts)] });
        expect(await visibleStatuses(org)).toEqual([[winner.id, 'COMPLETED'], [other.id, other.attrs['status']]]);
        expect(await storage.countEvents(org)).toBe(3);
      });

      it('keeps supersede keys per organization', async () => {
        const [a, b] = [await newOrg(), await newOrg()];
        const first = makeFileExecution('exec-5', 'a.pdf', 'ERROR', T0);
        await storage.insertEvents(a, [first], utcHourOf, NOW);
        await storage.insertEvents(b, [makeFileExecution('exec-5', 'a.pdf', 'COMPLETED', T0 + H)], utcHourOf, NOW);
        expect(await visibleStatuses(a)).toEqual([[first.id, 'ERROR']]);
      });
    });

    describe('dirty hours', () => {
      it('quietAfter ends at the first visible event from `from` or at the first dirty hour ending after it', async () => {
        const org = await newOrg();
        expect(await storage.quietAfter(org, T0)).toBe(Infinity);
        await storage.insertEvents(org, [makeEvent({ ts: T0 + 10 * 60_000 }), makeEvent({ ts: T0 + 2 * H + 5 })], utcHourOf, NOW);
        // Both hours are dirty until aggregated: a range ending inside the first is not settled.
        expect(await storage.quietAfter(org, T0 + 30 * 60_000)).toBe(T0 + 30 * 60_000);
        expect(await storage.quietAfter(org, T0 + H + 1)).toBe(T0 + 2 * H);
        await storage.clearDirty(await storage.listDirty(org, 100));
        expect(await storage.quietAfter(org, T0)).toBe(T0 + 10 * 60_000);
        expect(await storage.quietAfter(org, T0 + 30 * 60_000)).toBe(T0 + 2 * H + 5);
        expect(await storage.quietAfter(org, T0 + 2 * H + 5)).toBe(T0 + 2 * H + 5);
        expect(await storage.quietAfter(org, T0 + 2 * H + 6)).toBe(Infinity);
        // A dirty hour ahead bounds the stretch; one that ended before `from` does not.
        await storage.markDirty(org, [T0 + 5 * H]);
        expect(await storage.quietAfter(org, T0 + 2 * H + 6)).toBe(T0 + 5 * H);
        expect(await storage.quietAfter(org, T0 + 5 * H + 59 * 60_000)).toBe(T0 + 5 * H + 59 * 60_000);
        expect(await storage.quietAfter(org, T0 + 6 * H)).toBe(Infinity);
        // Other organizations' events and marks do not count.
        const other = await newOrg();
        await storage.insertEvents(other, [makeEvent({ ts: T0 + 3 * H })], utcHourOf, NOW);
        expect(await storage.quietAfter(org, T0 + 2 * H + 6)).toBe(T0 + 5 * H);
      });

      it('insert marks hours; a mark re-marked after listing survives clearDirty', async () => {
        const org = await newOrg();
        await storage.insertEvents(org, [makeEvent({ ts: T0 + 5 }), makeEvent({ ts: T0 + H + 5 })], utcHourOf, NOW);
        expect(await storage.dirtyOrgs()).toContain(org);
        const marks = await storage.listDirty(org, 100);
        expect(marks.map((m) => m.hourStart)).toEqual([T0, T0 + H]);
        expect(marks.every((m) => m.orgId === org)).toBe(true);

        await storage.insertEvents(org, [makeEvent({ ts: T0 + 9 })], utcHourOf, NOW + 1);
        await storage.clearDirty(marks);
        const left = await storage.listDirty(org, 100);
        expect(left.map((m) => m.hourStart)).toEqual([T0]);
        expect(left[0]!.generation).not.toBe(marks[0]!.generation);
        await storage.clearDirty(left);
        expect(await storage.listDirty(org, 100)).toEqual([]);
        expect(await storage.dirtyOrgs()).not.toContain(org);
      });

      it('markDirty marks, re-marks with a new generation, and listDirty honours the limit', async () => {
        const org = await newOrg();
        await storage.markDirty(org, [T0 + 2 * H, T0, T0 + H, T0]);
        const firstTwo = await storage.listDirty(org, 2);
        expect(firstTwo.map((m) => m.hourStart)).toEqual([T0, T0 + H]);
        await storage.markDirty(org, [T0]);
        await storage.clearDirty(firstTwo);
        expect((await storage.listDirty(org, 10)).map((m) => m.hourStart)).toEqual([T0, T0 + 2 * H]);
        await storage.markDirty(org, []);
        const other = await newOrg();
        expect(await storage.listDirty(other, 10)).toEqual([]);
      });

      it('a stale claim cannot clear a mark that was cleared and set again (no generation reuse)', async () => {
        const org = await newOrg();
        await storage.markDirty(org, [T0]);
        const stale = await storage.listDirty(org, 10);
        await storage.clearDirty(stale);
        await storage.markDirty(org, [T0]);
        // e.g. a worker whose lease expired finishing late with its old claim
        await storage.clearDirty(stale);
        expect((await storage.listDirty(org, 10)).map((m) => m.hourStart)).toEqual([T0]);
      });
    });

    describe('rollups', () => {
      const B0 = T0;
      const B1 = T0 + H;
      function rowsFor(orgId: string): RollupRow[] {
        return [
          makeRollupRow({ orgId, bucketStart: B0, metric: 'llm_calls', count: 3, sum: 3, min: 1, max: 1 }),
          makeRollupRow({ orgId, bucketStart: B0, metric: 'llm_calls', dimName: 'model', dimValue: 'gpt-4o', count: 2, sum: 2 }),
          makeRollupRow({ orgId, bucketStart: B0, metric: 'llm_calls', project: 'p2', tag: 'eu', count: 1, sum: 1 }),
          makeRollupRow({
            orgId, bucketStart: B0, metric: 'request_latency_ms', count: 2, sum: 310.5, min: 100.25, max: 210.25,
            sketch: new Uint8Array([1, 2, 3, 0, 255, 7]),
          }),
          makeRollupRow({ orgId, bucketStart: B0, metric: 'gauge.users', count: 2, sum: 30, min: 10, max: 20, lastValue: 20, lastTs: B0 + 59_000 }),
          makeRollupRow({ orgId, bucketStart: B1, metric: 'llm_calls', count: 7, sum: 7 }),
        ];
      }

      it('round-trips rows including sketches and gauge readings', async () => {
        const org = await newOrg();
        await storage.replaceBuckets(org, 'hour', [B0, B1], rowsFor(org));
        const read = await storage.readRollups({ orgId: org, granularity: 'hour', from: B0, to: B1 + 1 });
        expect(comparable(read)).toEqual(comparable(rowsFor(org)));
        const sketchRow = read.find((r) => r.sketch !== null);
        expect(sketchRow?.sketch).toBeInstanceOf(Uint8Array);
        expect(read.map((r) => r.bucketStart)).toEqual([...read.map((r) => r.bucketStart)].sort((a, b) => a - b));
        expect(await storage.rollupMetricNames(org)).toEqual(['gauge.users', 'llm_calls', 'request_latency_ms']);
      });

      it('replaceBuckets removes vanished rows and leaves other buckets, tiers and orgs alone', async () => {
        const org = await newOrg();
        const other = await newOrg();
        await storage.replaceBuckets(org, 'hour', [B0, B1], rowsFor(org));
        await storage.replaceBuckets(org, 'day', [B0], [makeRollupRow({ orgId: org, granularity: 'day', bucketStart: B0, count: 10, sum: 10 })]);
        await storage.replaceBuckets(other, 'hour', [B0], rowsFor(other).filter((r) => r.bucketStart === B0));

        const replacement = [makeRollupRow({ orgId: org, bucketStart: B0, metric: 'llm_calls', count: 4, sum: 4 })];
        await storage.replaceBuckets(org, 'hour', [B0], replacement);
        const hour = await storage.readRollups({ orgId: org, granularity: 'hour', from: B0, to: B1 + 1 });
        expect(comparable(hour)).toEqual(comparable([...replacement, ...rowsFor(org).filter((r) => r.bucketStart === B1)]));
        expect(await storage.readRollups({ orgId: org, granularity: 'day', from: B0, to: B0 + 1 })).toHaveLength(1);
        expect(await storage.readRollups({ orgId: other, granularity: 'hour', from: B0, to: B1 })).toHaveLength(5);

        await storage.replaceBuckets(org, 'hour', [B1], []);
        expect(await storage.readRollups({ orgId: org, granularity: 'hour', from: B1, to: B1 + 1 })).toEqual([]);
      });

      it('a failing replaceBuckets call (duplicate row keys) leaves the buckets as they were', async () => {
        const org = await newOrg();
        await storage.replaceBuckets(org, 'hour', [B0, B1], rowsFor(org));
        const dup = makeRollupRow({ orgId: org, bucketStart: B0, count: 9, sum: 9 });
        await expect(storage.replaceBuckets(org, 'hour', [B0], [dup, { ...dup }])).rejects.toThrow();
        const read = await storage.readRollups({ orgId: org, granularity: 'hour', from: B0, to: B1 + 1 });
        expect(comparable(read)).toEqual(comparable(rowsFor(org)));
      });

      it('writeRollupRows upserts and deletes single rows across tiers; readRollupsByKey reads exactly those keys', async () => {
        const org = await newOrg();
        const other = await newOrg();
        await storage.replaceBuckets(org, 'hour', [B0, B1], rowsFor(org));
        await storage.replaceBuckets(other, 'hour', [B0], rowsFor(other).filter((r) => r.bucketStart === B0));
        const all = rowsFor(org);
        const [global, byModel, inProject] = all;
        const changed = { ...global!, count: 4, sum: 4, min: 0.5 };
        // 257 new rows (more than one multi-row statement's worth) beside one changed row, in another tier too.
        const added = Array.from({ length: 257 }, (_, i) =>
          makeRollupRow({ orgId: org, granularity: 'day', bucketStart: B0, metric: 'llm_calls', dimName: 'user', dimValue: `u-${i}`, count: i + 1, sum: i + 1, hll: i === 0 ? new Uint8Array([1, 0]) : null }),
        );
        await storage.writeRollupRows(org, [changed, ...added], [byModel!, { ...inProject!, metric: 'absent' }]);

        const hour = await storage.readRollups({ orgId: org, granularity: 'hour', from: B0, to: B1 + 1 });
        const expectedHour = all.filter((r) => r !== byModel && r !== global).concat([changed]);
        expect(comparable(hour)).toEqual(comparable(expectedHour));
        expect(comparable(await storage.readRollups({ orgId: org, granularity: 'day', from: B0, to: B0 + 1 }))).toEqual(comparable(added));
        expect(await storage.readRollups({ orgId: other, granularity: 'hour', from: B0, to: B1 })).toHaveLength(5);

        const asked = [changed, byModel!, added[0]!, added[256]!, { ...changed, bucketStart: B1 + H }];
        const found = await storage.readRollupsByKey(org, asked);
        expect(comparable(found)).toEqual(comparable([changed, added[0]!, added[256]!]));
        expect(found.find((r) => r.dimValue === 'u-0')?.hll).toEqual(new Uint8Array([1, 0]));
        // The org argument decides whose rows: the other org's untouched rows of the same keys.
        expect((await storage.readRollupsByKey(other, asked)).map((r) => [r.orgId, r.count]).sort()).toEqual([[other, 2], [other, 3]]);

        // Idempotent; a key listed twice or a row of another org is refused and changes nothing.
        await storage.writeRollupRows(org, [changed], []);
        await expect(storage.writeRollupRows(org, [changed], [changed])).rejects.toThrow(/twice/);
        await expect(storage.writeRollupRows(org, [{ ...changed, orgId: other }], [])).rejects.toThrow(/org/);
        expect(comparable(await storage.readRollups({ orgId: org, granularity: 'hour', from: B0, to: B1 + 1 }))).toEqual(comparable(expectedHour));
      });

      it('writeRollupRows keeps what changed in a pack after readRollupsByKey read it (the read decoded an older version)', async () => {
        const org = await newOrg();
        const user = (dimValue: string, count: number) =>
          makeRollupRow({ orgId: org, granularity: 'day', bucketStart: B0, metric: 'llm_calls', dimName: 'user', dimValue, count, sum: count });
        await storage.replaceBuckets(org, 'day', [B0], [user('a', 1), user('b', 2)]);
        // A steady pass reads its keys (their pack is decoded then) ...
        expect(comparable(await storage.readRollupsByKey(org, [user('a', 0)]))).toEqual(comparable([user('a', 1)]));
        // ... someone else rewrites that pack before the pass writes ...
        await storage.replaceBuckets(org, 'day', [B0], [user('a', 1), user('b', 5), user('c', 7)]);
        // ... and the write changes only its own key in the pack as it is now.
        await storage.writeRollupRows(org, [user('a', 3)], []);
        const day = await storage.readRollups({ orgId: org, granularity: 'day', from: B0, to: B0 + 1 });
        expect(comparable(day)).toEqual(comparable([user('a', 3), user('b', 5), user('c', 7)]));
      });

      it('replaces buckets holding hundreds of rows in one call, atomically', async () => {
        const org = await newOrg();
        const many = (bucketStart: number, n: number, count: number) =>
          Array.from({ length: n }, (_, i) =>
            makeRollupRow({ orgId: org, bucketStart, metric: `m${i % 7}`, dimName: i < 7 ? '' : 'user', dimValue: i < 7 ? '' : `u${i}`, count, sum: i }),
          );
        const first = [...many(B0, 203, 1), ...many(B1, 150, 1)];
        await storage.replaceBuckets(org, 'hour', [B0, B1], first);
        const read = () => storage.readRollups({ orgId: org, granularity: 'hour', from: B0, to: B1 + 1 });
        expect(comparable(await read())).toEqual(comparable(first));

        const broken = many(B0, 190, 2);
        broken[150] = { ...broken[20]! };
        await expect(storage.replaceBuckets(org, 'hour', [B0], broken)).rejects.toThrow();
        expect(comparable(await read())).toEqual(comparable(first));

        const second = many(B0, 97, 3);
        await storage.replaceBuckets(org, 'hour', [B0], second);
        expect(comparable(await read())).toEqual(comparable([...second, ...many(B1, 150, 1)]));
      });

      it('readRollups filters by range, metrics, project, tag and dimension', async () => {
        const org = await newOrg();
        await storage.replaceBuckets(org, 'hour', [B0, B1], rowsFor(org));
        const q = (extra: Partial<Parameters<Storage['readRollups']>[0]>) =>
          storage.readRollups({ orgId: org, granularity: 'hour', from: B0, to: B1 + 1, ...extra });
        expect(await q({ from: B1 })).toHaveLength(1);
        expect(await q({ to: B1 })).toHaveLength(5);
        expect(await q({ granularity: 'day' })).toEqual([]);
        expect((await q({ metrics: ['llm_calls'] })).map((r) => r.metric)).toEqual(['llm_calls', 'llm_calls', 'llm_calls', 'llm_calls']);
        expect(await q({ metrics: ['gauge.users', 'request_latency_ms'] })).toHaveLength(2);
        expect(await q({ metrics: [] })).toEqual([]);
        expect(await q({ project: 'p2' })).toHaveLength(1);
        expect((await q({ tag: 'eu' }))[0]?.project).toBe('p2');
        expect((await q({ dimName: 'model' })).map((r) => r.dimValue)).toEqual(['gpt-4o']);
        expect(await q({ dimName: '' })).toHaveLength(5);
        expect(await q({ dimName: 'country' })).toEqual([]);
        expect(await q({ metrics: ['llm_calls'], project: 'default', tag: '', dimName: '' })).toHaveLength(2);
        expect((await q({ metrics: ['llm_calls'], dimName: '' })).map((r) => r.count)).toEqual([3, 1, 7]);
        expect((await q({ metrics: ['llm_calls'], dimName: 'model' })).map((r) => r.dimValue)).toEqual(['gpt-4o']);
        expect(await q({ metrics: ['request_latency_ms'], dimName: 'model' })).toEqual([]);
      });

      it('readRollups with mergeScopes returns a global pack of several scopes as one merged row (ADR 0013)', async () => {
        const org = await newOrg();
        await storage.replaceBuckets(org, 'hour', [B0, B1], rowsFor(org));
        const q = (extra: Partial<Parameters<Storage['readRollups']>[0]>) =>
          storage.readRollups({ orgId: org, granularity: 'hour', from: B0, to: B1 + 1, metrics: ['llm_calls'], ...extra });
        const merged = await q({ dimName: '', mergeScopes: true });
        expect(merged.map((r) => [r.bucketStart, r.project, r.tag, r.count, r.sum])).toEqual([
          [B0, '', '', 4, 4],
          [B1, 'default', '', 7, 7],
        ]);
        expect((await q({ mergeScopes: true })).map((r) => [r.dimName, r.dimValue, r.count])).toEqual([
          ['', '', 4],
          ['model', 'gpt-4o', 2],
          ['', '', 7],
        ]);
        // Reads that do not merge never see the merged entry.
        expect((await q({ dimName: '' })).map((r) => r.count)).toEqual([3, 1, 7]);
      });

      it('mergeScopes reads large global packs whole or by their first entry alike (ADR 0013)', async () => {
        const org = await newOrg();
        const values = (n: number, scale: number) => Array.from({ length: n }, (_, j) => (j + 1) * scale);
        const rows = [
          // A scope table longer than any prefix a reader may fetch first.
          ...Array.from({ length: 150 }, (_, i) => makeRollupRow({ orgId: org, bucketStart: B0, metric: 'wide', project: `a-rather-long-project-name-${i}`, count: i + 1, sum: i + 1 })),
          // A small merged entry in front of many sketched entries.
          ...Array.from({ length: 40 }, (_, i) => {
            const sketched = values(30, i + 1.5);
            return makeRollupRow({
              orgId: org, bucketStart: B0, metric: 'sketched', project: `p${i}`, count: 30, sum: sketched.reduce((a, b) => a + b, 0),
              min: sketched[0]!, max: sketched.at(-1)!, sketch: encodeValues(sketched),
            });
          }),
          // One scope (no merged entry) and a blob longer than the prefix.
          makeRollupRow({ orgId: org, bucketStart: B1, metric: 'single', count: 1500, sum: 1, min: 1, max: 1.03 ** 1499, sketch: encodeValues(Array.from({ length: 1500 }, (_, j) => 1.03 ** j)) }),
        ];
        await storage.replaceBuckets(org, 'hour', [B0, B1], rows);
        // A merged row's scope is not the caller's business (the port's rule): compared without it.
        const unscoped = (list: readonly RollupRow[]) => comparable(list.map((r) => ({ ...r, project: '', tag: '' })));
        const expected = (metric: string) => {
          const scopes = rows.filter((r) => r.metric === metric);
          return scopes.length === 1 ? scopes[0]! : { ...scopes[0]!, ...mergeAllPartials(scopes) };
        };
        // Every metric (bucket totals, ADR 0024) and a few named ones (their packs).
        for (const metrics of [undefined, ['wide', 'sketched', 'single']]) {
          const read = await storage.readRollups({ orgId: org, granularity: 'hour', from: B0, to: B1 + 1, dimName: '', mergeScopes: true, ...(metrics ? { metrics } : {}) });
          expect(unscoped(read)).toEqual(unscoped(['wide', 'sketched', 'single'].map(expected)));
        }
      });

      it('a merging read of every metric equals the scopes merged from what is stored, after replaces, row changes and retention (bucket totals, ADR 0024)', async () => {
        const org = await newOrg();
        const sketched = (values: number[], over: Partial<RollupRow>) =>
          makeRollupRow({ orgId: org, count: values.length, sum: values.reduce((a, b) => a + b, 0), min: Math.min(...values), max: Math.max(...values), sketch: encodeValues(values), ...over });
        // The stored rows as this test keeps them, independently of the engine.
        let stored = new Map<string, RollupRow>();
        const keyOf = (r: RollupRow) => [r.granularity, r.bucketStart, r.metric, r.project, r.tag, r.dimName, r.dimValue].join('|');
        const put = (rows: readonly RollupRow[]) => rows.forEach((r) => stored.set(keyOf(r), r));
        const expected = (granularity: RollupRow['granularity']) => {
          const groups = new Map<string, RollupRow[]>();
          for (const r of stored.values()) {
            if (r.granularity !== granularity || r.dimName !== '') continue;
            const id = `${r.bucketStart}|${r.metric}`;
            groups.set(id, [...(groups.get(id) ?? []), r]);
          }
          return [...groups.values()].map((scopes) => {
            const ordered = [...scopes].sort((a, b) => (a.project + '\u0000' + a.tag < b.project + '\u0000' + b.tag ? -1 : 1));
            return { ...ordered[0]!, project: '', tag: '', ...mergeAllPartials(ordered) };
          });
        };
        const read = (granularity: RollupRow['granularity']) =>
          storage.readRollups({ orgId: org, granularity, from: B0 - 24 * H, to: B1 + 24 * H, dimName: '', mergeScopes: true });
        const check = async () => {
          for (const granularity of ['hour', 'day'] as const) {
            expect(comparable((await read(granularity)).map((r) => ({ ...r, project: '', tag: '' })))).toEqual(comparable(expected(granularity)));
          }
        };

        const first = [
          sketched([1, 2, 3], { bucketStart: B0, metric: 'latency', project: 'a' }),
          sketched([10], { bucketStart: B0, metric: 'latency', project: 'b', tag: 'eu' }),
          makeRollupRow({ orgId: org, bucketStart: B0, metric: 'calls', project: 'a', count: 3, sum: 3 }),
          makeRollupRow({ orgId: org, bucketStart: B0, metric: 'calls', dimName: 'model', dimValue: 'x', project: '', count: 3, sum: 3 }),
          makeRollupRow({ orgId: org, bucketStart: B1, metric: 'calls', project: 'a', count: 2, sum: 2 }),
          makeRollupRow({ orgId: org, bucketStart: B1, metric: 'gauge', project: 'a', count: 1, sum: 5, min: 5, max: 5, lastValue: 5, lastTs: B1 + 10 }),
          makeRollupRow({ orgId: org, granularity: 'day', bucketStart: B0, metric: 'calls', project: 'a', count: 5, sum: 5 }),
        ];
        await storage.replaceBuckets(org, 'hour', [B0, B1], first.filter((r) => r.granularity === 'hour'));
        await storage.replaceBuckets(org, 'day', [B0], first.filter((r) => r.granularity === 'day'));
        put(first);
        await check();

        // A scope changes, a scope and a metric appear, every scope of a metric goes, a day row changes.
        const changed = sketched([4, 5], { bucketStart: B0, metric: 'latency', project: 'a' });
        const added = [
          makeRollupRow({ orgId: org, bucketStart: B1, metric: 'calls', project: 'c', count: 4, sum: 4 }),
          makeRollupRow({ orgId: org, bucketStart: B1, metric: 'new_metric', project: 'a', count: 1, sum: 9, min: 9, max: 9 }),
          makeRollupRow({ orgId: org, granularity: 'day', bucketStart: B0, metric: 'calls', project: 'a', count: 8, sum: 8 }),
        ];
        const gone = [...stored.values()].filter((r) => r.metric === 'gauge');
        await storage.writeRollupRows(org, [changed, ...added], gone);
        put([changed, ...added]);
        for (const r of gone) stored.delete(keyOf(r));
        await check();

        // Every global row of a bucket goes by row-level deletes: its totals go too.
        const b0Global = [...stored.values()].filter((r) => r.granularity === 'hour' && r.bucketStart === B0 && r.dimName === '');
        await storage.writeRollupRows(org, [], b0Global);
        for (const r of b0Global) stored.delete(keyOf(r));
        await check();

        // A whole-bucket replace with no rows empties the bucket.
        await storage.replaceBuckets(org, 'hour', [B1], []);
        stored = new Map([...stored].filter(([, r]) => !(r.granularity === 'hour' && r.bucketStart === B1)));
        await check();
        expect(await read('hour')).toEqual([]);

        // Retention drops totals with their packs.
        await storage.replaceBuckets(org, 'hour', [B0, B1], first.filter((r) => r.granularity === 'hour'));
        await storage.deleteRollupsBefore('hour', B1);
        expect([...new Set((await read('hour')).map((r) => r.bucketStart))]).toEqual([B1]);
        await storage.deleteAllRollups(org);
        expect(await read('hour')).toEqual([]);
        expect(await read('day')).toEqual([]);
      });

      it('merging reads started together each return what they return alone (ADR 0025)', async () => {
        const [org, other] = [await newOrg(), await newOrg()];
        const row = (orgId: string, over: Partial<RollupRow>) => makeRollupRow({ orgId, count: 2, sum: 3, min: 1, max: 2, ...over });
        for (const [orgId, scale] of [[org, 1], [other, 10]] as const) {
          const hours = [B0, B1].flatMap((bucketStart) => [
            row(orgId, { bucketStart, metric: 'calls', project: 'a', sum: scale }),
            row(orgId, { bucketStart, metric: 'calls', project: 'b', tag: 'eu', sum: 2 * scale }),
            row(orgId, { bucketStart, metric: 'cost', project: 'a', sum: 3 * scale }),
            row(orgId, { bucketStart, metric: 'calls', project: '', dimName: 'model', dimValue: 'm1', sum: scale }),
            row(orgId, { bucketStart, metric: 'calls', project: '', dimName: 'model', dimValue: 'm2', sum: 4 * scale }),
            row(orgId, { bucketStart, metric: 'cost', project: '', dimName: 'country', dimValue: 'DE', sum: 5 * scale }),
          ]);
          await storage.replaceBuckets(orgId, 'hour', [B0, B1], hours);
          await storage.replaceBuckets(orgId, 'day', [B0], [row(orgId, { granularity: 'day', bucketStart: B0, metric: 'calls', project: 'a', sum: 7 * scale })]);
        }
        const range = { from: B0, to: B1 + H, mergeScopes: true } as const;
        const reads: RollupQuery[] = [
          { orgId: org, granularity: 'hour', ...range, dimName: '' },
          { orgId: org, granularity: 'day', ...range, dimName: '' },
          { orgId: org, granularity: 'hour', ...range, dimName: '', metrics: ['calls'] },
          { orgId: org, granularity: 'hour', ...range, dimName: '', metrics: ['cost', 'calls', 'cost'] },
          { orgId: org, granularity: 'hour', ...range, dimName: 'model', metrics: ['calls'] },
          { orgId: org, granularity: 'hour', ...range, dimName: 'country', metrics: ['calls', 'cost'] },
          { orgId: org, granularity: 'hour', ...range, dimName: 'model' },
          { orgId: org, granularity: 'hour', ...range, metrics: ['calls'] },
          { orgId: org, granularity: 'hour', from: B1, to: B1 + H, mergeScopes: true, dimName: 'model', metrics: ['calls'] },
          { orgId: org, granularity: 'hour', ...range, dimName: '', metrics: [] },
          { orgId: other, granularity: 'hour', ...range, dimName: '', metrics: ['calls'] },
          { orgId: other, granularity: 'hour', ...range, dimName: 'model', metrics: ['calls'] },
          { orgId: other, granularity: 'day', ...range, dimName: '' },
        ];
        const alone: RollupRow[][] = [];
        for (const query of reads) alone.push(await storage.readRollups(query));
        // Each read alone answers from its own org, tier, range, metrics and dimension.
        expect(alone[2]!.map((r) => [r.bucketStart, r.metric, r.sum])).toEqual([[B0, 'calls', 3], [B1, 'calls', 3]]);
        expect(alone[4]!.map((r) => [r.bucketStart, r.dimValue, r.sum])).toEqual([[B0, 'm1', 1], [B0, 'm2', 4], [B1, 'm1', 1], [B1, 'm2', 4]]);
        expect(alone[5]!.map((r) => [r.metric, r.dimValue, r.sum])).toEqual([['cost', 'DE', 5], ['cost', 'DE', 5]]);
        expect(alone[8]!.map((r) => r.bucketStart)).toEqual([B1, B1]);
        expect(alone[9]).toEqual([]);
        expect(alone[10]!.map((r) => [r.orgId, r.sum])).toEqual([[other, 30], [other, 30]]);
        expect(alone[12]!.map((r) => [r.orgId, r.granularity, r.sum])).toEqual([[other, 'day', 70]]);
        const together = await Promise.all(reads.map((query) => storage.readRollups(query)));
        together.forEach((rows, i) => expect(rows, `read ${i}`).toEqual(alone[i]));
      });

      it('readRollups of (metric, dimension) pairs returns exactly the rows of those pairs, merged or filtered', async () => {
        const org = await newOrg();
        const row = (over: Partial<RollupRow>) => makeRollupRow({ orgId: org, count: 2, sum: 3, min: 1, max: 2, ...over });
        const hours = [B0, B1].flatMap((bucketStart, i) => [
          row({ bucketStart, metric: 'calls', project: 'a', sum: 1 + i }),
          row({ bucketStart, metric: 'calls', project: 'b', tag: 'eu', sum: 2 }),
          row({ bucketStart, metric: 'calls', project: '', dimName: 'model', dimValue: 'm1', sum: 3 }),
          row({ bucketStart, metric: 'calls', project: '', dimName: 'model', dimValue: 'm2', sum: 4 + i }),
          row({ bucketStart, metric: 'calls', project: '', dimName: 'country', dimValue: 'DE', sum: 5 }),
          row({ bucketStart, metric: 'errors', project: 'a', sum: 6 }),
          row({ bucketStart, metric: 'errors', project: '', dimName: 'status', dimValue: '500', sum: 7 }),
          row({ bucketStart, metric: 'errors', project: '', dimName: 'model', dimValue: 'm1', sum: 8 }),
        ]);
        await storage.replaceBuckets(org, 'hour', [B0, B1], hours);
        const range = { orgId: org, granularity: 'hour', from: B0, to: B1 + H } as const;
        const pairs = [
          { metric: 'errors', dimName: 'status' },
          { metric: 'calls', dimName: 'model' },
          { metric: 'calls', dimName: 'country' },
          { metric: 'calls', dimName: 'model' },
        ];
        for (const flags of [{ mergeScopes: true }, {}, { project: 'a' }, { tag: 'eu' }] as const) {
          const read = await storage.readRollups({ ...range, ...flags, pairs });
          const alone: RollupRow[] = [];
          for (const { metric, dimName } of pairs.slice(0, 3)) alone.push(...(await storage.readRollups({ ...range, ...flags, metrics: [metric], dimName })));
          expect(comparable(read), JSON.stringify(flags)).toEqual(comparable(alone));
          expect(read.map((r) => r.bucketStart)).toEqual([...read.map((r) => r.bucketStart)].sort((a, b) => a - b));
        }
        // Not every dimension of the pairs' metrics: errors by model and calls' global rows stay out.
        const merged = await storage.readRollups({ ...range, mergeScopes: true, pairs });
        expect(merged.map((r) => [r.bucketStart, r.metric, r.dimName, r.dimValue, r.sum])).toEqual([
          [B0, 'calls', 'country', 'DE', 5], [B0, 'calls', 'model', 'm1', 3], [B0, 'calls', 'model', 'm2', 4], [B0, 'errors', 'status', '500', 7],
          [B1, 'calls', 'country', 'DE', 5], [B1, 'calls', 'model', 'm1', 3], [B1, 'calls', 'model', 'm2', 5], [B1, 'errors', 'status', '500', 7],
        ]);
        const globalPair = await storage.readRollups({ ...range, mergeScopes: true, pairs: [{ metric: 'calls', dimName: '' }] });
        expect(globalPair.map((r) => [r.bucketStart, r.sum])).toEqual([[B0, 3], [B1, 4]]);
        expect(await storage.readRollups({ ...range, pairs: [] })).toEqual([]);
        expect(await storage.readRollups({ ...range, pairs: [{ metric: 'calls', dimName: 'endpoint' }] })).toEqual([]);
        await expect(storage.readRollups({ ...range, pairs, metrics: ['calls'] })).rejects.toThrow(/pairs/);
      });

      it('deleteAllRollups clears one organization in every tier', async () => {
        const [org, other] = [await newOrg(), await newOrg()];
        await storage.replaceBuckets(org, 'hour', [B0, B1], rowsFor(org));
        await storage.replaceBuckets(org, 'month', [B0], [makeRollupRow({ orgId: org, granularity: 'month', bucketStart: B0 })]);
        await storage.replaceBuckets(other, 'hour', [B1], rowsFor(other).filter((r) => r.bucketStart === B1));
        await storage.deleteAllRollups(org);
        expect(await storage.readRollups({ orgId: org, granularity: 'hour', from: 0, to: B1 + H })).toEqual([]);
        expect(await storage.readRollups({ orgId: org, granularity: 'month', from: 0, to: B1 + H })).toEqual([]);
        expect(await storage.rollupMetricNames(org)).toEqual([]);
        expect(await storage.readRollups({ orgId: other, granularity: 'hour', from: 0, to: B1 + H })).toHaveLength(1);
      });
    });

    describe('leases', () => {
      it('grants a lease to one holder at a time, renews it, expires it and releases it', async () => {
        const name = uniqueId('lease');
        expect(await storage.tryAcquireLease(name, 'a', 10_000, NOW)).toBe(true);
        expect(await storage.tryAcquireLease(name, 'b', 10_000, NOW + 1)).toBe(false);
        expect(await storage.tryAcquireLease(name, 'a', 10_000, NOW + 5_000)).toBe(true);
        expect(await storage.tryAcquireLease(name, 'b', 10_000, NOW + 12_000)).toBe(false);
        expect(await storage.tryAcquireLease(name, 'b', 10_000, NOW + 15_000)).toBe(true);
        expect(await storage.tryAcquireLease(name, 'a', 10_000, NOW + 15_001)).toBe(false);
        await storage.releaseLease(name, 'a');
        expect(await storage.tryAcquireLease(name, 'a', 10_000, NOW + 15_002)).toBe(false);
        await storage.releaseLease(name, 'b');
        expect(await storage.tryAcquireLease(name, 'a', 10_000, NOW + 15_003)).toBe(true);
        expect(await storage.tryAcquireLease(uniqueId('lease'), 'b', 10_000, NOW + 15_004)).toBe(true);
      });
    });

    describe('retention', () => {
      // Decades in the past: no other suite stores anything there, so the global deletes only
      // touch data of retention tests; counts are asserted as lower bounds for concurrent runs.
      const OLD = Date.UTC(1975, 5, 1);
      const CUTOFF = Date.UTC(1976, 0, 1);

      it('counts and deletes events older than the cutoff, keeping newer ones', async () => {
        const org = await newOrg();
        const old = [0, 1, 2].map((i) => makeEvent({ ts: OLD + i * H }));
        const kept = makeEvent({ ts: CUTOFF });
        await storage.insertEvents(org, [...old, kept], utcHourOf, NOW);
        expect(await storage.countEventsBefore(CUTOFF)).toBeGreaterThanOrEqual(3);
        expect(await storage.deleteEventsBefore(CUTOFF)).toBeGreaterThanOrEqual(3);
        const left = await storage.scanEvents({ orgId: org, from: 0, to: CUTOFF + 1 });
        expect(left.map((e) => e.id)).toEqual([kept.id]);
        expect(await storage.countEvents(org)).toBe(1);
      });

      it('counts and deletes rollups of one tier older than the cutoff', async () => {
        const org = await newOrg();
        const oldRows = [0, 1].map((i) => makeRollupRow({ orgId: org, granularity: 'day', bucketStart: OLD + i * 24 * H }));
        const keptRow = makeRollupRow({ orgId: org, granularity: 'day', bucketStart: CUTOFF });
        const otherTier = makeRollupRow({ orgId: org, granularity: 'month', bucketStart: OLD });
        await storage.replaceBuckets(org, 'day', [OLD, OLD + 24 * H, CUTOFF], [...oldRows, keptRow]);
        await storage.replaceBuckets(org, 'month', [OLD], [otherTier]);
        expect(await storage.countRollupsBefore('day', CUTOFF)).toBeGreaterThanOrEqual(2);
        expect(await storage.deleteRollupsBefore('day', CUTOFF)).toBeGreaterThanOrEqual(2);
        const days = await storage.readRollups({ orgId: org, granularity: 'day', from: 0, to: CUTOFF + 1 });
        expect(comparable(days)).toEqual(comparable([keptRow]));
        expect(await storage.readRollups({ orgId: org, granularity: 'month', from: 0, to: CUTOFF })).toHaveLength(1);
      });
    });
  });
}

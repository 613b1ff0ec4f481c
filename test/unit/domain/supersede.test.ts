import { describe, expect, it } from 'vitest';
import { compareRecency, dirtyHoursAfterInsert, resolveSupersede, type SupersedeContender, type SupersedeOutcome } from '../../../src/domain/supersede.ts';
import { seededRandom } from './random.ts';

/** The oracle: sort everything ever stored by (ts, receivedAt, UTF-8 bytes of id) and take the last. */
function oracleWinner(all: readonly SupersedeContender[]): SupersedeContender {
  return [...all].sort((a, b) => a.ts - b.ts || a.receivedAt - b.receivedAt || Buffer.compare(Buffer.from(a.id, 'utf8'), Buffer.from(b.id, 'utf8'))).at(-1)!;
}

const ID_CHARS = ['a', 'b', 'z', 'é', '\uffff', '\u{1f600}', '\u{10ffff}'];

describe('supersede rule', () => {
  it('orders by ts, then received time, then id as UTF-8 bytes', () => {
    expect(compareRecency({ id: 'a', ts: 2, receivedAt: 0 }, { id: 'z', ts: 1, receivedAt: 9 })).toBeGreaterThan(0);
    expect(compareRecency({ id: 'a', ts: 1, receivedAt: 2 }, { id: 'z', ts: 1, receivedAt: 1 })).toBeGreaterThan(0);
    expect(compareRecency({ id: 'b', ts: 1, receivedAt: 1 }, { id: 'a', ts: 1, receivedAt: 1 })).toBeGreaterThan(0);
    expect(compareRecency({ id: '\u{1f600}', ts: 1, receivedAt: 1 }, { id: '\uffff', ts: 1, receivedAt: 1 })).toBeGreaterThan(0);
    expect(compareRecency({ id: 'ab', ts: 1, receivedAt: 1 }, { id: 'a', ts: 1, receivedAt: 1 })).toBeGreaterThan(0);
    expect(compareRecency({ id: 'a', ts: 1, receivedAt: 1 }, { id: 'a', ts: 1, receivedAt: 1 })).toBe(0);
  });

  it('a first arrival becomes the head; an older one loses without changing anything', () => {
    const head = { id: 'h', ts: 10, receivedAt: 1 };
    expect(resolveSupersede(null, [head])).toEqual({ winner: head, losers: [], dethroned: null, headChanged: true, changedAt: [10] });
    const older = { id: 'o', ts: 5, receivedAt: 2 };
    expect(resolveSupersede(head, [older])).toEqual({ winner: head, losers: [older], dethroned: null, headChanged: false, changedAt: [] });
  });

  it('a newer arrival dethrones the head; the hours of both change', () => {
    const head = { id: 'h', ts: 10, receivedAt: 1 };
    const newer = { id: 'n', ts: 20, receivedAt: 2 };
    const older = { id: 'o', ts: 15, receivedAt: 2 };
    const outcome = resolveSupersede(head, [older, newer]);
    expect(outcome).toEqual({ winner: newer, losers: [older], dethroned: head, headChanged: true, changedAt: [20, 10] });
    expect(dirtyHoursAfterInsert([15, 20], [outcome], (ts) => Math.floor(ts / 10) * 10)).toEqual([10, 20]);
  });

  it('agrees with the oracle for random arrival orders split into random batches', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = seededRandom(seed);
      const events: SupersedeContender[] = [];
      const count = 1 + Math.floor(random() * 8);
      const ids = new Set<string>();
      while (events.length < count) {
        const id = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ID_CHARS[Math.floor(random() * ID_CHARS.length)]).join('');
        if (ids.has(id)) continue;
        ids.add(id);
        events.push({ id, ts: Math.floor(random() * 3), receivedAt: 0 });
      }
      let head: SupersedeContender | null = null;
      const stored: SupersedeContender[] = [];
      let receivedAt = 0;
      for (let i = 0; i < events.length; ) {
        const size = 1 + Math.floor(random() * 3);
        receivedAt += Math.floor(random() * 2); // batches often share a received time
        const batch = events.slice(i, i + size).map((e) => ({ ...e, receivedAt }));
        i += size;
        const outcome: SupersedeOutcome<SupersedeContender> = resolveSupersede(head, batch);
        stored.push(...batch);
        expect(outcome.winner, `seed ${seed}`).toEqual(oracleWinner(stored));
        expect(outcome.losers.length + (outcome.headChanged ? 1 : 0), `seed ${seed}`).toBe(batch.length);
        if (outcome.headChanged && head !== null) expect(outcome.dethroned).toEqual(head);
        head = outcome.winner;
      }
    }
  });
});

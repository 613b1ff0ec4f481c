import { describe, expect, it } from 'vitest';
import { PassGate } from '../../src/app/pass-gate.ts';

/** The pass gate (aggregate.ts): light rounds overlap, a heavy round runs alone and is not starved. */

/** A round that stays open until its test says so, recording when it ran. */
function openRound(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const work = async (): Promise<string> => {
    log.push(`start ${name}`);
    await done;
    log.push(`end ${name}`);
    return name;
  };
  return { work, finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PassGate', () => {
  it('lets light rounds run at the same time', async () => {
    const gate = new PassGate();
    const log: string[] = [];
    const a = openRound(log, 'a');
    const b = openRound(log, 'b');
    const running = [gate.run(false, a.work), gate.run(false, b.work)];
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    a.finish();
    b.finish();
    expect(await Promise.all(running)).toEqual(['a', 'b']);
  });

  it('starts a heavy round only once the light ones ended, and holds back light rounds asked for after it', async () => {
    const gate = new PassGate();
    const log: string[] = [];
    const light = openRound(log, 'light');
    const heavy = openRound(log, 'heavy');
    const later = openRound(log, 'later');
    const running = [gate.run(false, light.work), gate.run(true, heavy.work)];
    await settle();
    running.push(gate.run(false, later.work));
    await settle();
    expect(log).toEqual(['start light']);
    light.finish();
    await settle();
    expect(log).toEqual(['start light', 'end light', 'start heavy']);
    heavy.finish();
    later.finish();
    await Promise.all(running);
    expect(log).toEqual(['start light', 'end light', 'start heavy', 'end heavy', 'start later', 'end later']);
  });

  it('runs heavy rounds one at a time', async () => {
    const gate = new PassGate();
    const log: string[] = [];
    const first = openRound(log, 'first');
    const second = openRound(log, 'second');
    const running = [gate.run(true, first.work), gate.run(true, second.work)];
    await settle();
    expect(log).toEqual(['start first']);
    first.finish();
    second.finish();
    await Promise.all(running);
    expect(log).toEqual(['start first', 'end first', 'start second', 'end second']);
  });

  it('frees its place when a round fails', async () => {
    const gate = new PassGate();
    await expect(gate.run(true, async () => Promise.reject(new Error('storage down')))).rejects.toThrow('storage down');
    await expect(gate.run(false, async () => 'next')).resolves.toBe('next');
    await expect(gate.run(true, async () => 'heavy after')).resolves.toBe('heavy after');
  });
});

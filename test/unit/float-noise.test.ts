import { describe, expect, it } from 'vitest';
import { stringifyWithoutFloatNoise, withoutFloatNoise } from '../../src/app/query/json-numbers.ts';
import { roundLikePython } from '../../src/domain/python-round.ts';

describe('numbers in API answers', () => {
  it('drop binary float noise but keep every digit that was sent', () => {
    const noisy = 0.1 + 0.2;
    expect(String(noisy)).toBe('0.30000000000000004');
    expect(JSON.stringify({ cost: noisy, small: 0.00012345678901234, big: 123456789.125, count: 7 }, withoutFloatNoise)).toBe('{"cost":0.3,"small":0.00012345678901234,"big":123456789.125,"count":7}');
  });

  it('drop the drift of a long float sum in the 15th digit, and nothing else', () => {
    const costs = JSON.stringify({ hour: 4.444722829999995, low: 2.000000000000013, neg: -7.123000000000009 }, withoutFloatNoise);
    expect(costs).toBe('{"hour":4.44472283,"low":2,"neg":-7.123}');
    // Fifteen digits without such a tail are kept whole, however small or large.
    expect(JSON.stringify([1.23456789012345, 0.000123456789012345, 98765.4321098765], withoutFloatNoise)).toBe('[1.23456789012345,0.000123456789012345,98765.4321098765]');
  });

  it('gives what the digit-pattern definition gives, for any double', () => {
    // The definition as first written: the significant digits as a string, then NOISE_TAIL.
    const byPattern = (value: number) => {
      const fifteen = value.toPrecision(15);
      const digits = fifteen.replace(/e.*$/, '').replace(/[-.]/g, '').replace(/^0+/, '');
      return Number(/(?:0{5,}|9{5,})\d$/.test(digits) ? value.toPrecision(14) : fifteen);
    };
    let seed = 1;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const values = [99.9999999999999, 1234567899.99991, 0.30000000000000004, 1e-15 + 1e-30, -9.99999999999999e-7, 2.000000000000013];
    for (let i = 0; i < 40_000; i++) {
      const kind = i % 5;
      values.push(
        kind === 0 ? random() * 10 ** Math.floor(random() * 40 - 20)
          : kind === 1 ? Math.round(random() * 1e6) / 1e3 + 0.1 + 0.2
            : kind === 2 ? 1 - random() * 1e-12
              : kind === 3 ? Array.from({ length: 30 }, () => Math.round(random() * 1e4) / 1e4).reduce((a, b) => a + b, 0)
                : -(Math.floor(random() * 1e5) + 0.99999) * 10 ** Math.floor(random() * 10 - 5),
      );
    }
    for (const value of values) {
      if (Number.isInteger(value)) continue;
      expect(withoutFloatNoise('', value), String(value)).toBe(byPattern(value));
      // Cleaning a cleaned number changes nothing (stringifyWithoutFloatNoise relies on it).
      expect(withoutFloatNoise('', withoutFloatNoise('', value)), String(value)).toBe(byPattern(value));
    }
  });

  it('serialize an answer to the same text as JSON.stringify with the replacer, whatever it holds', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const number = () => [0.1 + 0.2, random() * 1e3, Math.round(random() * 1e4) / 1e4 + 0.7, 4.444722829999995, 42, -0, NaN, Infinity][Math.floor(random() * 8)]!;
    const tree = (depth: number): unknown => {
      const kind = Math.floor(random() * (depth > 3 ? 4 : 7));
      if (kind === 0) return number();
      if (kind === 1) return ['text', null, true, undefined][Math.floor(random() * 4)];
      if (kind === 2 || kind === 3) return number();
      if (kind === 4) return Array.from({ length: Math.floor(random() * 5) }, () => tree(depth + 1));
      const object: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(random() * 5); i++) object[`k${i}`] = tree(depth + 1);
      return object;
    };
    const expected = (value: unknown) => JSON.stringify(value, withoutFloatNoise);
    for (let i = 0; i < 2_000; i++) {
      const value = tree(0);
      const before = expected(value);
      expect(stringifyWithoutFloatNoise(value)).toBe(before);
    }
    // What the in-place path leaves to the replacer: toJSON, class instances, frozen or read-only holders.
    class Point {
      constructor(readonly x: number) {}
    }
    const readOnly = Object.defineProperty({}, 'cost', { get: () => 0.1 + 0.2, enumerable: true });
    const odd = [
      { at: new Date(0), cost: 0.1 + 0.2 },
      { point: new Point(0.1 + 0.2), cost: 0.1 + 0.2 },
      { series: [Object.freeze({ cost: 0.1 + 0.2 })], total: 0.1 + 0.2 },
      { nested: readOnly, total: 0.1 + 0.2 },
      { custom: { toJSON: () => ({ cost: 0.1 + 0.2 }) } },
      Object.assign(Object.create(null) as object, { cost: 0.1 + 0.2 }),
      [new Map([['a', 1]]), 0.1 + 0.2],
    ];
    for (const value of odd) {
      const text = stringifyWithoutFloatNoise(value);
      expect(text).toBe(expected(value));
      expect(text).not.toContain('0.30000000000000004');
    }
  });

  it("round costs as Python's round(x, 4): the nearest, exact ties to even", () => {
    expect(roundLikePython(0.03125)).toBe(0.0312);
    expect(roundLikePython(0.03135)).toBe(0.0314);
    expect(roundLikePython(0.35000000000000003)).toBe(0.35);
    expect(roundLikePython(-0.03125)).toBe(-0.0312);
    expect(roundLikePython(2.5e-5)).toBe(0);
    expect(roundLikePython(0.123456789)).toBe(0.1235);
  });
});

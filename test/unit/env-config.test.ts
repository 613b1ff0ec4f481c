import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

/**
 * A bad number in the environment must name the variable and say what is expected; `PORT=abc`
 * used to answer "Invalid input: expected number, received NaN".
 */

const dir = mkdtempSync(join(tmpdir(), 'meterboard-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (env: Record<string, string>) => loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, ...env }, dir);
const failure = (env: Record<string, string>): ConfigError => {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
};

describe('numeric environment variables', () => {
  it('PORT=abc, 1.5, 70000, -1: names PORT and the expected whole number range, quoting the value', () => {
    for (const value of ['abc', '1.5', '70000', '-1']) {
      const error = failure({ PORT: value });
      expect(error.variable, value).toBe('PORT');
      expect(error.message, value).toBe(`PORT: expected a whole number from 0 to 65535 (got "${value}")`);
    }
  });

  it('another integer variable says its own range', () => {
    expect(failure({ MAX_EVENTS_PER_REQUEST: '0' }).message).toBe('MAX_EVENTS_PER_REQUEST: expected a whole number from 1 to 1000000 (got "0")');
  });

  it('valid values, and unset or empty (the default)', () => {
    expect(load({ PORT: '8081' }).port).toBe(8081);
    expect(load({ PORT: '0' }).port).toBe(0);
    expect(load({}).port).toBe(8080);
    expect(load({ PORT: '' }).port).toBe(8080);
  });
});

describe('AGGREGATION_THREADS (ADR 0016)', () => {
  it('unset, empty or 0: auto (one per core, capped by the wiring); a number is taken as it is', () => {
    expect(load({}).aggregationThreads).toBe('auto');
    expect(load({ AGGREGATION_THREADS: '' }).aggregationThreads).toBe('auto');
    expect(load({ AGGREGATION_THREADS: '0' }).aggregationThreads).toBe('auto');
    expect(load({ AGGREGATION_THREADS: '1' }).aggregationThreads).toBe(1);
    expect(load({ AGGREGATION_THREADS: '3' }).aggregationThreads).toBe(3);
  });

  it('a value that is not a thread count names the variable', () => {
    expect(failure({ AGGREGATION_THREADS: 'two' }).message).toBe('AGGREGATION_THREADS: expected a whole number from 0 to 16 (got "two")');
    expect(failure({ AGGREGATION_THREADS: '17' }).variable).toBe('AGGREGATION_THREADS');
  });
});

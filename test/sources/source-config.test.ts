import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

/** `sources` in meterboard.config.json is validated at start: field and reason, or a typed config. */
const dir = mkdtempSync(join(tmpdir(), 'meterboard-source-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(sources: unknown): ReturnType<typeof loadConfig> {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ sources }));
  return loadConfig({ CONFIG_FILE: file, DATA_DIR: dir }, dir);
}

function failure(sources: unknown): ConfigError {
  try {
    load(sources);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const unstract = { name: 'unstract-prod', kind: 'postgres', url: 'postgres://ro@db/unstract', preset: 'unstract', orgs: { org_abc: 'acme' } };

describe('sources config', () => {
  it('parses a preset source with defaults (every 5m, rescan 1h) and durations in ms', () => {
    const config = load([{ ...unstract, schema: 'unstract', every: '2m', snapshots: [{ name: 'total users', sql: 'SELECT 1 AS value', every: '1d' }] }]);
    expect(config.sources).toEqual([
      {
        ...unstract,
        schema: 'unstract',
        every: 120_000,
        rescan: 3_600_000,
        snapshots: [{ name: 'total users', sql: 'SELECT 1 AS value', every: '1d', unit: 'count', category: 'snapshots' }],
      },
    ]);
    expect(load(undefined).sources).toEqual([]);
  });

  it.each([
    [{ ...unstract, kind: 'mysql' }, 'sources.0.kind', 'must be "postgres"'],
    [{ ...unstract, url: 'mysql://x' }, 'sources.0.url', 'postgres://'],
    [{ ...unstract, preset: 'langfuse' }, 'sources.0.preset', 'must be "unstract"'],
    [{ ...unstract, every: 'often' }, 'sources.0.every', 'positive duration'],
    [{ ...unstract, rescan: '0h' }, 'sources.0.rescan', 'positive duration'],
    [{ ...unstract, name: 'Bad Name' }, 'sources.0.name', 'lower-case'],
    [{ ...unstract, org: 'acme' }, 'sources.0.orgs', 'exactly one of orgs'],
    [{ ...unstract, orgs: { org_abc: 'Not An Org!' } }, 'sources.0.orgs.org_abc', 'organization id'],
    [{ ...unstract, tables: [] }, 'sources.0.tables', 'either preset or tables'],
    [{ name: 'x', kind: 'postgres', url: 'postgres://h/db', org: 'acme' }, 'sources.0.preset', 'nothing to pull'],
    [{ ...unstract, snapshots: [{ name: 'u', sql: 'SELECT 1', every: '1w' }] }, 'sources.0.snapshots.0.every', '"1h" or "1d"'],
    [{ ...unstract, password: 'x' }, 'sources.0', 'password'],
    [{ name: 'x', kind: 'postgres', url: 'postgres://h/db', orgs: { a: 'acme' }, tables: [{ table: 'users; drop', event: 'signup' }] }, 'sources.0.tables.0.table', 'identifier'],
    [{ name: 'x', kind: 'postgres', url: 'postgres://h/db', orgs: { a: 'acme' }, tables: [{ table: 'signups', event: 'signup' }] }, 'sources.0.tables.0.org_column', 'required unless the source sets org'],
    [[unstract, unstract], 'sources.1.name', 'duplicate source name'],
  ])('rejects %j naming the field', (source, field, reason) => {
    const error = failure(Array.isArray(source) ? source : [source]);
    // "<config file> <field path>", e.g. "meterboard.config.json sources.0.url".
    expect(error.variable).toMatch(/^config-\w+\.json /);
    expect(error.variable.split(' ')[1]).toBe(field);
    expect(error.reason).toContain(reason);
  });
});

describe('the README example', () => {
  it('is a valid config', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const block = /```json\n(\{\n {2}"sources"[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const config = load((JSON.parse(block!) as { sources: unknown }).sources);
    expect(config.sources.map((source) => [source.name, source.preset ?? source.tables?.length])).toEqual([['unstract', 'unstract'], ['app', 1]]);
  });
});

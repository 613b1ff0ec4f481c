import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../support/postgres.ts';
import { freePort } from '../support/pg-cluster.ts';
import { createUnstractDb, insertExecution, insertOrganizations, seededRandom, type UnstractDb } from './unstract-fixture.ts';

/** `meterboard sources list | status | pull` as a user runs them: the real binary, embedded storage. */
const BIN = fileURLToPath(new URL('../../bin/meterboard', import.meta.url));
const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('sources CLI', () => {
  let db: UnstractDb;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  const cli = async (...args: string[]): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 120_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  beforeAll(async () => {
    db = await createUnstractDb('src_cli');
    const [org] = await insertOrganizations(db.client, ['org_cli']);
    const random = seededRandom(5);
    for (let i = 0; i < 20; i++) await insertExecution(db.client, { random, org: org!, createdAt: Date.now() - (i + 1) * 3_600_000 });
    dir = mkdtempSync(join(tmpdir(), 'meterboard-sources-cli-'));
    const url = new URL(TEST_DATABASE_URL);
    url.password = 'secret-pw';
    const config = {
      sources: [
        { name: 'unstract', kind: 'postgres', url: TEST_DATABASE_URL, schema: db.schema, preset: 'unstract', orgs: { org_cli: 'cli-org' } },
        { name: 'offline', kind: 'postgres', url: `postgres://reader:secret-pw@127.0.0.1:${await freePort()}/app`, org: 'cli-org', snapshots: [{ name: 'users', sql: 'SELECT 1 AS value', every: '1h' }] },
      ],
    };
    writeFileSync(join(dir, 'meterboard.config.json'), JSON.stringify(config));
    env = { PATH: process.env['PATH'], HOME: process.env['HOME'], DATA_DIR: join(dir, 'data'), CONFIG_FILE: join(dir, 'meterboard.config.json'), LOG_LEVEL: 'silent' };
    expect((await cli('org', 'create', 'cli-org')).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the configured sources without their passwords', async () => {
    const result = await cli('sources', 'list');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('secret-pw');
    const listed = JSON.parse(result.stdout) as Array<{ name: string; url: string; tables: string[] }>;
    expect(listed.map((s) => s.name)).toEqual(['unstract', 'offline']);
    expect(listed[0]!.tables).toEqual(['usage → llm_call', 'page_usage → page_usage', 'workflow_execution → workflow_execution', 'file_execution → file_execution']);
    expect(listed[1]!.url).toContain('reader:***@');
  });

  it('pulls: the reachable source succeeds, the other fails with exit 1 and a one-line reason', async () => {
    const result = await cli('sources', 'pull');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^meterboard: offline: .*ECONNREFUSED/);
    const results = JSON.parse(result.stdout) as Array<{ source: string; ok: boolean; rowsRead: number; accepted: number }>;
    const { rows } = await db.client.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM usage) + (SELECT count(*) FROM page_usage) + (SELECT count(*) FROM workflow_execution) + (SELECT count(*) FROM workflow_file_execution) AS n',
    );
    expect(results[0]).toMatchObject({ source: 'unstract', ok: true, rowsRead: Number(rows[0]!.n), accepted: Number(rows[0]!.n) });
    expect(results[1]).toMatchObject({ source: 'offline', ok: false, rowsRead: 0 });

    const one = await cli('sources', 'pull', '--name', 'unstract', '--since', '2000-01-01');
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject([{ source: 'unstract', ok: true, accepted: 0 }]);
  }, 120_000);

  it('shows status with rows read, lag and the last error', async () => {
    const result = await cli('sources', 'status');
    expect(result.code).toBe(0);
    const statuses = JSON.parse(result.stdout) as Array<{ name: string; healthy: boolean; rows_read: number; lag_seconds: number | null; last_error: string | null; consecutive_failures: number }>;
    expect(statuses[0]).toMatchObject({ name: 'unstract', healthy: true, last_error: null, consecutive_failures: 0 });
    expect(statuses[0]!.rows_read).toBeGreaterThan(0);
    expect(statuses[0]!.lag_seconds).toBeGreaterThanOrEqual(0);
    expect(statuses[1]).toMatchObject({ name: 'offline', healthy: false, lag_seconds: null, consecutive_failures: 1 });
    expect(statuses[1]!.last_error).toMatch(/ECONNREFUSED/);
  }, 60_000);
});

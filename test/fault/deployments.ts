import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startOwnRedisServer, type OwnRedisServer } from '../contract/cache.redis-server.ts';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../support/postgres.ts';
import { FAULT_ADMIN_KEY, freePort, runCli, waitUntil, type CliProcess } from './support.ts';

/**
 * The deployments the fault tests break: an embedded `serve` on a SQLite data directory, or
 * server mode (`serve` and `worker` processes) on a PostgreSQL schema of the test's own and a
 * redis-server of the test's own. The test reads the database directly (its own connection)
 * to check what is stored, independently of the server's answers.
 */

export const ADMIN_HEADERS = { authorization: `Bearer ${FAULT_ADMIN_KEY}`, 'content-type': 'application/json' };

/** Rate limits out of the way: the fault tests send as fast as the server answers. */
const UNLIMITED = { RATE_LIMIT_PER_KEY: '1000000', RATE_LIMIT_AUTH_FAILURES: '1000000' };

/** Rows of one table of the deployment's database, read by the test itself. */
export interface DatabaseProbe {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface Deployment {
  engine: 'sqlite' | 'postgres';
  /** The environment every process of this deployment runs with (plus its own PORT). */
  env: Record<string, string>;
  redis: OwnRedisServer | null;
  probe: DatabaseProbe;
  destroy(): Promise<void>;
}

export interface DeploymentOptions {
  /** A PostgreSQL server URL other than the shared one (a throwaway server the test stops). */
  postgresUrl?: string;
  extraEnv?: Record<string, string>;
}

function pgProbe(url: string, schema: string): DatabaseProbe {
  const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` });
  // The throwaway server is stopped under the probe's idle connections: that is expected.
  pool.on('error', () => undefined);
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      return (await pool.query(sql, params)).rows as T[];
    },
    close: () => pool.end(),
  };
}

function sqliteProbe(file: string): DatabaseProbe {
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      // A fresh connection per statement: the server process may have been killed and
      // restarted in between, and a WAL reader must see its latest commits.
      const db = new Database(file, { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 10000');
        const statement = db.prepare(sql.replace(/\$\d+/g, '?'));
        if (!statement.reader) {
          statement.run(...params);
          return [];
        }
        return statement.all(...params) as T[];
      } finally {
        db.close();
      }
    },
    close: async () => undefined,
  };
}

export async function createDeployment(engine: 'sqlite' | 'postgres', options: DeploymentOptions = {}): Promise<Deployment> {
  const extra = { ...UNLIMITED, ...options.extraEnv };
  if (engine === 'sqlite') {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meterboard-fault-'));
    return {
      engine,
      env: { DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', ...extra },
      redis: null,
      probe: sqliteProbe(path.join(dataDir, 'meterboard.db')),
      destroy: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const serverUrl = options.postgresUrl ?? TEST_DATABASE_URL;
  const schema = uniqueSchemaName('fault');
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const redis = await startOwnRedisServer();
  const probe = pgProbe(serverUrl, schema);
  return {
    engine,
    env: { DATABASE_URL: `${serverUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, REDIS_URL: redis.url, ...extra },
    redis,
    probe,
    async destroy() {
      await probe.close().catch(() => undefined);
      await redis.stop();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      cleanup.on('error', () => undefined);
      try {
        await cleanup.connect();
        await cleanup.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } catch {
        // A throwaway server is destroyed with its data; nothing to drop then.
      } finally {
        await cleanup.end().catch(() => undefined);
      }
    },
  };
}

export interface RunningServe {
  process: CliProcess;
  base: string;
}

/** Starts `meterboard serve` on the deployment and waits until it answers /health. */
export async function startServe(deployment: Deployment, env: Record<string, string> = {}): Promise<RunningServe> {
  const port = await freePort();
  const process = runCli(['serve'], { ...deployment.env, PORT: String(port), HOST: '127.0.0.1', ADMIN_KEY: FAULT_ADMIN_KEY, ...env });
  const base = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${base}/health`)).ok, 'serve to answer /health', 90_000, process);
  return { process, base };
}

/** Starts `meterboard worker` (server mode) with its health port on a free port. */
export async function startWorker(deployment: Deployment, env: Record<string, string> = {}): Promise<CliProcess> {
  const port = await freePort();
  const worker = runCli(['worker'], { ...deployment.env, WORKER_PORT: String(port), HOST: '127.0.0.1', ...env });
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/health`)).status < 500, 'worker health server', 90_000, worker);
  return worker;
}

/** kill -9, and waits until the process is gone. */
export async function kill9(process: CliProcess): Promise<void> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) throw new Error(`process already exited:\n${process.output()}`);
  process.child.kill('SIGKILL');
  await process.exited;
}

export async function createOrg(base: string, id: string): Promise<void> {
  const response = await fetch(`${base}/api/v1/orgs`, { method: 'POST', headers: ADMIN_HEADERS, body: JSON.stringify({ id, timezone: 'UTC' }) });
  if (response.status !== 201) throw new Error(`creating org ${id}: ${response.status} ${await response.text()}`);
}

/** How many rows of `events` each id has (every id of the org). */
export async function storedIdCounts(probe: DatabaseProbe, orgId: string): Promise<Map<string, number>> {
  const rows = await probe.query<{ id: string; n: number | string }>('SELECT id, COUNT(*) AS n FROM events WHERE org_id = $1 GROUP BY id', [orgId]);
  return new Map(rows.map((row) => [row.id, Number(row.n)]));
}

/** Hours still waiting for aggregation for the org. */
export async function dirtyHourCount(probe: DatabaseProbe, orgId: string): Promise<number> {
  const rows = await probe.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM dirty_hours WHERE org_id = $1', [orgId]);
  return Number(rows[0]?.n ?? 0);
}

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, inTransaction } from '../../src/adapters/postgres/db.ts';
import { probePostgres, TEST_DATABASE_URL } from '../support/postgres.ts';

/**
 * Finding 2 of issue 13: a connection cut while a client is checked out of the pool (between
 * two statements of a transaction) emitted an unhandled 'error' event that killed the worker.
 * The server really closes the connection here (pg_terminate_backend on our own backend).
 */

const available = await probePostgres();

describe.runIf(available)('a PostgreSQL connection cut while checked out', () => {
  const warnings: unknown[] = [];
  const log = { warn: (obj: unknown) => warnings.push(obj), info: () => undefined, error: () => undefined, debug: () => undefined };
  const pool = createPool({ url: TEST_DATABASE_URL, maxConnections: 2, log: log as never });
  afterAll(() => pool.end());

  async function terminate(pid: number): Promise<void> {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
  }

  it('fails the transaction with a connection error instead of crashing, and the pool recovers', async () => {
    const outcome = inTransaction(pool, async (client) => {
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await terminate(pid);
      // Idle on a checked-out client while the server closes it: this is when 'error' fires.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await client.query('SELECT 1');
    });
    await expect(outcome).rejects.toThrow(/terminat|Connection|closed/i);
    const after = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(after.rows[0]!.one).toBe(1);
  });
});

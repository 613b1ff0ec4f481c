import type { Pool } from 'pg';
import type { JobHealthRecord, JobHealthStore } from '../../ports/storage.ts';

export function createJobHealthStore(pool: Pool): JobHealthStore {
  return {
    async recordJobRun(run) {
      // A success never moves backwards: two workers finishing out of order keep the later time.
      await pool.query(
        `INSERT INTO job_health (job, last_success_at, last_failure_at, last_duration_ms, last_records, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (job) DO UPDATE SET
           last_success_at = greatest(job_health.last_success_at, excluded.last_success_at),
           last_failure_at = greatest(job_health.last_failure_at, excluded.last_failure_at),
           last_duration_ms = excluded.last_duration_ms, last_records = excluded.last_records, updated_at = excluded.updated_at`,
        [run.job, run.ok ? run.finishedAt : null, run.ok ? null : run.finishedAt, run.durationMs, run.records, run.finishedAt],
      );
    },
    async listDataVersions() {
      const result = await pool.query<{ id: string; data_version: string | number }>('SELECT id, data_version FROM orgs');
      return new Map(result.rows.map((row) => [row.id, Number(row.data_version)]));
    },
    async oldestDirtyHours() {
      const result = await pool.query<{ org_id: string; oldest: string | number }>('SELECT org_id, min(hour_start) AS oldest FROM dirty_hours GROUP BY org_id');
      return new Map(result.rows.map((row) => [row.org_id, Number(row.oldest)]));
    },
    async readJobHealth() {
      const result = await pool.query<{ job: string; last_success_at: number | null; last_failure_at: number | null; last_duration_ms: number; last_records: number }>(
        'SELECT job, last_success_at, last_failure_at, last_duration_ms, last_records FROM job_health ORDER BY job',
      );
      return result.rows.map(
        (row): JobHealthRecord => ({
          job: row.job,
          lastSuccessAt: row.last_success_at === null ? null : Number(row.last_success_at),
          lastFailureAt: row.last_failure_at === null ? null : Number(row.last_failure_at),
          lastDurationMs: Number(row.last_duration_ms),
          lastRecords: Number(row.last_records),
        }),
      );
    },
  };
}

import type { Database } from 'better-sqlite3';
import type { JobHealthRecord, JobHealthStore } from '../../ports/storage.ts';
import { lazy } from './lazy-statement.ts';

export function sqliteJobHealthStore(db: Database): JobHealthStore {
  const sql = lazy(() => ({
    record: db.prepare<[string, number | null, number | null, number, number, number]>(
      `INSERT INTO job_health (job, last_success_at, last_failure_at, last_duration_ms, last_records, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (job) DO UPDATE SET
         -- max() is NULL when either side is; the later known time wins, a NULL never erases one.
         last_success_at = coalesce(max(excluded.last_success_at, job_health.last_success_at), excluded.last_success_at, job_health.last_success_at),
         last_failure_at = coalesce(max(excluded.last_failure_at, job_health.last_failure_at), excluded.last_failure_at, job_health.last_failure_at),
         last_duration_ms = excluded.last_duration_ms, last_records = excluded.last_records, updated_at = excluded.updated_at`,
    ),
    read: db.prepare<[], JobHealthRecord>(
      `SELECT job, last_success_at AS lastSuccessAt, last_failure_at AS lastFailureAt, last_duration_ms AS lastDurationMs,
              last_records AS lastRecords FROM job_health ORDER BY job`,
    ),
    versions: db.prepare<[], [string, number]>('SELECT id, data_version FROM orgs').raw(),
    oldestDirty: db.prepare<[], [string, number]>('SELECT org_id, min(hour_start) FROM dirty_hours GROUP BY org_id').raw(),
  }));
  return {
    async recordJobRun(run) {
      sql().record.run(run.job, run.ok ? run.finishedAt : null, run.ok ? null : run.finishedAt, run.durationMs, run.records, run.finishedAt);
    },
    async readJobHealth() {
      return sql().read.all();
    },
    async listDataVersions() {
      return new Map(sql().versions.all());
    },
    async oldestDirtyHours() {
      return new Map(sql().oldestDirty.all());
    },
  };
}

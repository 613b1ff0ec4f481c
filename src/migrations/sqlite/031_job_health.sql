-- Job health shared by every process (issue 12): whoever runs a job records its outcome here,
-- so /metrics on any serve or worker process reports the same last success.
CREATE TABLE job_health (
  job              TEXT    NOT NULL PRIMARY KEY,
  last_success_at  INTEGER,
  last_failure_at  INTEGER,
  last_duration_ms REAL    NOT NULL,
  last_records     INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;

-- Job health shared by every process (issue 12): whoever runs a job records its outcome here,
-- so /metrics on any serve or worker process reports the same last success.
CREATE TABLE job_health (
  job              text COLLATE "C" PRIMARY KEY,
  last_success_at  bigint,
  last_failure_at  bigint,
  last_duration_ms float8 NOT NULL,
  last_records     bigint NOT NULL,
  updated_at       bigint NOT NULL
);

/**
 * What the original Unstract dashboard-metrics module answers, as plain rules (pure). The
 * aliases under `/api/v1/unstract/{org}/metrics/…/` follow these so its unmodified frontend
 * renders against meterboard exactly as against the original.
 */

/** The original module's metrics, in its frontend's priority order; nothing else is listed. */
export const UNSTRACT_METRICS = [
  'pages_processed',
  'documents_processed',
  'failed_pages',
  'llm_calls',
  'prompt_executions',
  'deployed_api_requests',
  'llm_usage',
  'hitl_reviews',
  'hitl_completions',
  'etl_pipeline_executions',
  'challenges',
  'summarization_calls',
] as const;

const UNSTRACT_METRIC_SET: ReadonlySet<string> = new Set(UNSTRACT_METRICS);

export function isUnstractMetric(name: string): boolean {
  return UNSTRACT_METRIC_SET.has(name);
}

export const DEFAULT_ACTIVITY_LIMIT = 10;
export const MAX_ACTIVITY_LIMIT = 50;

/**
 * `recent-activity?limit`: Python's `min(int(limit), 50)`, falling back to 10 when `int()`
 * refuses the text. A limit below 1 lists nothing (the original's empty slice; its negative
 * slice is a server error we do not copy).
 */
export function activityLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_ACTIVITY_LIMIT;
  // What int() accepts: optional sign, digits with single underscores between them, spaces around.
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(raw)) return DEFAULT_ACTIVITY_LIMIT;
  return Math.max(0, Math.min(Number(raw.trim().replace(/_/g, '')), MAX_ACTIVITY_LIMIT));
}

/** `workflow-token-usage` looks back at most this far; a longer range is cut and flagged. */
export const DEPLOYMENT_USAGE_MAX_DAYS = 30;

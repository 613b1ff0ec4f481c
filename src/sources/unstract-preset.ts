import type { Attributes } from '../domain/event.ts';
import { EXECUTION_STATUSES } from '../domain/event-schemas.ts';
import { ISO_UTC_MS, num, text, type SourceRow, type TablePull } from './table-pull.ts';

/**
 * The `unstract` preset: Unstract's own tables (schema in shared/fixtures/unstract-schema.sql)
 * as built-in events, so the seed 000 metrics come out as its dashboard_metrics module
 * computes them:
 *   usage (Django app usage_v2)  → llm_call            llm_calls, challenges, summarization_calls, llm_usage
 *   page_usage                   → page_usage          pages_processed, failed_pages (pages of files whose execution is ERROR)
 *   workflow_execution           → workflow_execution  prompt_executions, deployed_api_requests, etl_pipeline_executions
 *   workflow_file_execution      → file_execution      documents_processed (status COMPLETED)
 * Organizations are Unstract's string ids (organization.organization_id, e.g. "org_abc").
 * Executions are updated in place (PENDING → EXECUTING → COMPLETED/ERROR, ERROR → COMPLETED)
 * with modified_at bumped, so change_at follows modified_at; a page_usage row has none, and
 * its failed pages depend on its file execution's status, so it follows that row too.
 */

/**
 * Deployment of an execution `we` (joined with pipeline p, api_deployment a, workflow ww): seed
 * 000's API/ETL/TASK/WF as the original's get_deployment_usage tells them apart — WF is a run
 * without a pipeline; a pipeline of another type (APP, DEFAULT) or one that no longer exists
 * keeps its own type (or OTHER) and so falls in none of the dashboard's tabs.
 */
const DEPLOYMENT_COLUMNS = `
  CASE WHEN we.id IS NULL THEN NULL
       WHEN a.id IS NOT NULL THEN 'API'
       WHEN p.pipeline_type = 'ETL' THEN 'ETL'
       WHEN p.pipeline_type = 'TASK' THEN 'TASK'
       WHEN we.pipeline_id IS NULL THEN 'WF'
       ELSE COALESCE(NULLIF(upper(p.pipeline_type), ''), 'OTHER') END AS deployment_type,
  CASE WHEN a.id IS NOT NULL OR p.id IS NOT NULL THEN we.pipeline_id::text ELSE we.workflow_id::text END AS deployment_id,
  COALESCE(a.display_name, NULLIF(p.pipeline_name, ''), ww.workflow_name) AS deployment_name`;

const DEPLOYMENT_JOINS = `
  LEFT JOIN workflow ww ON ww.id = we.workflow_id
  LEFT JOIN pipeline p ON p.id = we.pipeline_id
  LEFT JOIN api_deployment a ON a.id = we.pipeline_id`;

const PIPELINE_TYPE: Record<string, string> = { API: 'api', ETL: 'etl', TASK: 'task', WF: 'workflow' };

function deployment(row: SourceRow): Attributes {
  const type = text(row, 'deployment_type');
  if (type === null) return {};
  return {
    deployment_type: type,
    pipeline_type: PIPELINE_TYPE[type] ?? 'workflow',
    deployment_id: text(row, 'deployment_id'),
    deployment_name: text(row, 'deployment_name'),
  };
}

const KNOWN_STATUSES = new Set<string>(EXECUTION_STATUSES);

/** Unknown statuses are kept as `source_status` rather than failing validation (the row still counts). */
function executionStatus(row: SourceRow): Attributes {
  const status = text(row, 'status');
  if (status === null) return {};
  return KNOWN_STATUSES.has(status.toUpperCase()) ? { status: status.toUpperCase() } : { source_status: status };
}

const seconds = (row: SourceRow, column: string): number | null => {
  const value = num(row, column);
  return value === null || value < 0 ? null : Math.round(value * 1000);
};

export const usageTable: TablePull = {
  key: 'usage',
  eventType: 'llm_call',
  baseSql: `SELECT u.id::text AS row_key, u.modified_at AS change_at, ${ISO_UTC_MS('u.created_at')} AS event_at,
      o.organization_id AS source_org,
      u.model_name, u.usage_type, u.llm_usage_reason, u.prompt_tokens, u.completion_tokens, u.total_tokens,
      u.embedding_tokens, u.cost_in_dollars, u.execution_time_ms, u.status, u.workflow_id, w.workflow_name,
      u.execution_id, u.run_id::text AS run_id, u.adapter_instance_id, ${DEPLOYMENT_COLUMNS}
    FROM usage u
    LEFT JOIN organization o ON o.id = u.organization_id
    LEFT JOIN workflow w ON w.id::text = u.workflow_id
    LEFT JOIN workflow_execution we ON we.id::text = u.execution_id ${DEPLOYMENT_JOINS}`,
  toAttributes(row) {
    const status = text(row, 'status')?.toUpperCase();
    return {
      model: text(row, 'model_name') ?? 'unknown',
      usage_type: text(row, 'usage_type'),
      reason: text(row, 'llm_usage_reason'),
      input_tokens: num(row, 'prompt_tokens'),
      output_tokens: num(row, 'completion_tokens'),
      total_tokens: num(row, 'total_tokens'),
      embedding_tokens: num(row, 'embedding_tokens'),
      cost_usd: num(row, 'cost_in_dollars'),
      latency_ms: num(row, 'execution_time_ms'),
      status: status === 'SUCCESS' ? 'success' : status === 'ERROR' ? 'error' : null,
      source_status: status === 'SUCCESS' || status === 'ERROR' ? null : (status ?? null),
      workflow_id: text(row, 'workflow_id'),
      workflow_name: text(row, 'workflow_name'),
      execution_id: text(row, 'execution_id'),
      file_execution_id: text(row, 'run_id'),
      adapter_instance_id: text(row, 'adapter_instance_id'),
      ...deployment(row),
    };
  },
};

export const pageUsageTable: TablePull = {
  key: 'page_usage',
  eventType: 'page_usage',
  baseSql: `SELECT pu.id::text AS row_key, GREATEST(pu.created_at, fe.modified_at) AS change_at,
      ${ISO_UTC_MS('pu.created_at')} AS event_at, pu.organization_id AS source_org,
      pu.pages_processed, pu.file_name, pu.file_type, pu.file_size, pu.run_id, fe.status AS file_status,
      fe.workflow_execution_id::text AS execution_id, we.workflow_id::text AS workflow_id, ww.workflow_name, ${DEPLOYMENT_COLUMNS}
    FROM page_usage pu
    LEFT JOIN workflow_file_execution fe ON fe.id::text = pu.run_id
    LEFT JOIN workflow_execution we ON we.id = fe.workflow_execution_id ${DEPLOYMENT_JOINS}`,
  toAttributes(row) {
    const pages = num(row, 'pages_processed') ?? 0;
    return {
      pages,
      // Seed 000: failed_pages = pages of the file executions whose status is ERROR.
      failed_pages: text(row, 'file_status') === 'ERROR' ? pages : 0,
      file_name: text(row, 'file_name'),
      file_type: text(row, 'file_type'),
      file_size: num(row, 'file_size'),
      file_execution_id: text(row, 'run_id'),
      file_status: text(row, 'file_status'),
      execution_id: text(row, 'execution_id'),
      workflow_id: text(row, 'workflow_id'),
      workflow_name: text(row, 'workflow_name'),
      ...deployment(row),
    };
  },
};

export const workflowExecutionTable: TablePull = {
  key: 'workflow_execution',
  eventType: 'workflow_execution',
  baseSql: `SELECT we.id::text AS row_key, we.modified_at AS change_at, ${ISO_UTC_MS('we.created_at')} AS event_at,
      o.organization_id AS source_org,
      we.workflow_id::text AS workflow_id, ww.workflow_name, we.status, we.execution_time, we.total_files,
      we.successful_files, we.failed_files, we.execution_mode, we.execution_method, ${DEPLOYMENT_COLUMNS}
    FROM workflow_execution we ${DEPLOYMENT_JOINS}
    LEFT JOIN organization o ON o.id = ww.organization_id`,
  toAttributes(row) {
    return {
      execution_id: text(row, 'row_key'),
      workflow_id: text(row, 'workflow_id'),
      workflow_name: text(row, 'workflow_name'),
      ...executionStatus(row),
      duration_ms: seconds(row, 'execution_time'),
      total_files: num(row, 'total_files'),
      successful_files: num(row, 'successful_files'),
      failed_files: num(row, 'failed_files'),
      execution_mode: text(row, 'execution_mode'),
      execution_method: text(row, 'execution_method'),
      // Direct workflow runs have no deployment row but are still a pipeline type of their own.
      pipeline_type: 'workflow',
      ...deployment(row),
    };
  },
};

export const fileExecutionTable: TablePull = {
  key: 'file_execution',
  eventType: 'file_execution',
  baseSql: `SELECT fe.id::text AS row_key, fe.modified_at AS change_at, ${ISO_UTC_MS('fe.created_at')} AS event_at,
      o.organization_id AS source_org,
      fe.workflow_execution_id::text AS execution_id, fe.file_name, fe.file_path, fe.status, fe.execution_time,
      fe.file_size, fe.mime_type, we.workflow_id::text AS workflow_id, ww.workflow_name, ${DEPLOYMENT_COLUMNS}
    FROM workflow_file_execution fe
    JOIN workflow_execution we ON we.id = fe.workflow_execution_id ${DEPLOYMENT_JOINS}
    LEFT JOIN organization o ON o.id = ww.organization_id`,
  toAttributes(row) {
    const status = text(row, 'status')?.toUpperCase() ?? 'PENDING';
    return {
      execution_id: text(row, 'execution_id'),
      file_name: text(row, 'file_name') ?? text(row, 'file_path') ?? text(row, 'row_key'),
      file_path: text(row, 'file_path'),
      status: KNOWN_STATUSES.has(status) ? status : 'PENDING',
      source_status: KNOWN_STATUSES.has(status) ? null : status,
      duration_ms: seconds(row, 'execution_time'),
      file_size: num(row, 'file_size'),
      mime_type: text(row, 'mime_type'),
      file_execution_id: text(row, 'row_key'),
      workflow_id: text(row, 'workflow_id'),
      workflow_name: text(row, 'workflow_name'),
      ...deployment(row),
    };
  },
};

export const UNSTRACT_TABLES: readonly TablePull[] = [usageTable, pageUsageTable, workflowExecutionTable, fileExecutionTable];

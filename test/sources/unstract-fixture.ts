import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../support/postgres.ts';

/**
 * A real Unstract database for source tests: a schema of its own on the test server, loaded
 * with test/fixtures/unstract-schema.sql (a copy of shared/fixtures/unstract-schema.sql), filled with
 * generated rows, and the seed 000 metrics computed by plain SQL over it (the oracle).
 */

export const UNSTRACT_SCHEMA_SQL = fileURLToPath(new URL('../fixtures/unstract-schema.sql', import.meta.url));

export interface UnstractDb {
  schema: string;
  client: pg.Client;
  drop(): Promise<void>;
}

export async function createUnstractDb(label: string): Promise<UnstractDb> {
  const schema = uniqueSchemaName(label);
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path TO ${schema}`);
  await client.query(readFileSync(UNSTRACT_SCHEMA_SQL, 'utf8'));
  return {
    schema,
    client,
    async drop() {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** mulberry32: the same rows on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const iso = (ms: number) => new Date(ms).toISOString();

export interface UnstractOrg {
  pk: number;
  /** organization.organization_id, the string id the preset maps. */
  orgId: string;
  workflows: string[];
  etlPipeline: string;
  taskPipeline: string;
  appPipeline: string;
  apiDeployment: string;
}

export interface GeneratedExecution {
  id: string;
  status: string;
  files: Array<{ id: string; status: string }>;
}

/** Inserts organizations with workflows, ETL/TASK/APP pipelines and an API deployment each. */
export async function insertOrganizations(client: pg.Client, orgIds: readonly string[]): Promise<UnstractOrg[]> {
  const orgs: UnstractOrg[] = [];
  for (const orgId of orgIds) {
    const { rows } = await client.query<{ id: string }>(
      'INSERT INTO organization (name, display_name, organization_id) VALUES ($1, $1, $2) RETURNING id',
      [orgId.toUpperCase(), orgId],
    );
    const pk = Number(rows[0]!.id);
    const workflows = [randomUUID(), randomUUID()];
    for (const [i, id] of workflows.entries()) {
      await client.query('INSERT INTO workflow (id, workflow_name, organization_id) VALUES ($1, $2, $3)', [id, `${orgId} flow ${i}`, pk]);
    }
    const pipeline = async (type: string) => {
      const id = randomUUID();
      await client.query('INSERT INTO pipeline (id, pipeline_name, workflow_id, pipeline_type, organization_id) VALUES ($1, $2, $3, $4, $5)', [
        id,
        `${type.toLowerCase()} ${orgId}`.slice(0, 32),
        workflows[0],
        type,
        pk,
      ]);
      return id;
    };
    const apiDeployment = randomUUID();
    await client.query(
      'INSERT INTO api_deployment (id, display_name, workflow_id, api_endpoint, api_name, organization_id) VALUES ($1, $2, $3, $4, $5, $6)',
      [apiDeployment, `api ${orgId}`.slice(0, 30), workflows[1], `/deployment/api/${orgId}/${apiDeployment}`, `api_${orgId}`.slice(0, 30), pk],
    );
    orgs.push({ pk, orgId, workflows, etlPipeline: await pipeline('ETL'), taskPipeline: await pipeline('TASK'), appPipeline: await pipeline('APP'), apiDeployment });
  }
  return orgs;
}

const STATUSES = ['PENDING', 'EXECUTING', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'ERROR', 'STOPPED'] as const;
const REASONS = ['extraction', 'extraction', 'challenge', 'summarize', 'lookup', null] as const;

export interface ExecutionOptions {
  random: () => number;
  org: UnstractOrg;
  createdAt: number;
  /** modified_at of every row; defaults to createdAt + a few seconds. */
  modifiedAt?: number;
  status?: string;
}

/**
 * One workflow execution with 1-3 file executions (two may share a file name, in different
 * folders), their page_usage rows and usage rows (LLM calls with various reasons, embeddings).
 * Costs are multiples of 1/64 so sums are exact in any order.
 */
export async function insertExecution(client: pg.Client, options: ExecutionOptions): Promise<GeneratedExecution> {
  const { random, org, createdAt } = options;
  const modifiedAt = options.modifiedAt ?? createdAt + int(random, 1, 90) * 1000;
  const id = randomUUID();
  const pipelineId = pick(random, [org.etlPipeline, org.taskPipeline, org.appPipeline, org.apiDeployment, org.apiDeployment, null]);
  const workflowId = pick(random, org.workflows);
  const status = options.status ?? pick(random, STATUSES);
  await client.query(
    `INSERT INTO workflow_execution (id, pipeline_id, workflow_id, execution_mode, execution_method, execution_type, status, total_files, execution_time, created_at, modified_at)
     VALUES ($1, $2, $3, 'QUEUE', 'DIRECT', 'COMPLETE', $4, $5, $6, $7, $8)`,
    [id, pipelineId, workflowId, status, 0, random() * 30, iso(createdAt), iso(modifiedAt)],
  );
  const files: GeneratedExecution['files'] = [];
  const fileCount = int(random, 1, 3);
  for (let f = 0; f < fileCount; f++) {
    const fileId = randomUUID();
    const fileStatus = status === 'PENDING' ? 'PENDING' : pick(random, STATUSES);
    const fileName = f === 1 && random() < 0.5 ? 'invoice-0.pdf' : `invoice-${f}.pdf`;
    const fileCreated = createdAt + f * 1000 + int(random, 0, 999);
    await client.query(
      `INSERT INTO workflow_file_execution (id, workflow_execution_id, file_name, file_path, file_hash, status, execution_time, created_at, modified_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [fileId, id, fileName, `/in/${f}/${fileName}`, fileId.replace(/-/g, ''), fileStatus, random() * 10, iso(fileCreated), iso(modifiedAt)],
    );
    files.push({ id: fileId, status: fileStatus });
    await client.query(
      `INSERT INTO page_usage (id, organization_id, file_name, file_type, run_id, pages_processed, file_size, created_at)
       VALUES ($1, $2, $3, 'application/pdf', $4, $5, $6, $7)`,
      [randomUUID(), org.orgId, fileName, fileId, int(random, 1, 25), int(random, 1000, 900000), iso(fileCreated + 500)],
    );
    const calls = int(random, 0, 4);
    for (let c = 0; c < calls; c++) {
      const llm = random() < 0.8;
      const prompt = int(random, 10, 4000);
      const completion = llm ? int(random, 5, 800) : 0;
      await client.query(
        `INSERT INTO usage (id, organization_id, workflow_id, execution_id, adapter_instance_id, run_id, usage_type, llm_usage_reason, model_name,
                            embedding_tokens, prompt_tokens, completion_tokens, total_tokens, cost_in_dollars, execution_time_ms, status, created_at, modified_at)
         VALUES ($1, $2, $3, $4, 'adapter-1', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
        [
          randomUUID(),
          org.pk,
          workflowId,
          id,
          fileId,
          llm ? 'llm' : 'embedding',
          llm ? pick(random, REASONS) : null,
          llm ? pick(random, ['gpt-4o', 'claude-3-5-sonnet', '']) : 'text-embedding-3-small',
          llm ? 0 : prompt,
          llm ? prompt : 0,
          completion,
          prompt + completion,
          int(random, 0, 640) / 64,
          int(random, 50, 9000),
          pick(random, ['SUCCESS', 'ERROR', null]),
          iso(fileCreated + 700 + c),
          // Django's auto_now: a row written late carries the time it was written.
          iso(options.modifiedAt ?? fileCreated + 700 + c),
        ],
      );
    }
  }
  return { id, status, files };
}

/** A page_usage row without a file execution (blank run_id), as Unstract writes for some tools. */
export async function insertStrayPageUsage(client: pg.Client, org: UnstractOrg, createdAt: number, pages: number): Promise<void> {
  await client.query(
    `INSERT INTO page_usage (id, organization_id, file_name, file_type, run_id, pages_processed, file_size, created_at)
     VALUES ($1, $2, 'loose.pdf', '', '', $3, 10, $4)`,
    [randomUUID(), org.orgId, pages, iso(createdAt)],
  );
}

// ---- the oracle: seed 000's metric definitions as direct SQL over the source tables ----------

export const SEED_000_METRICS = [
  'documents_processed',
  'pages_processed',
  'failed_pages',
  'llm_calls',
  'challenges',
  'summarization_calls',
  'deployed_api_requests',
  'etl_pipeline_executions',
  'llm_usage',
  'prompt_executions',
  'hitl_reviews',
  'hitl_completions',
] as const;

/** `<metric> → (local date → value)` for one organization, days in `timeZone`. */
export type OracleDays = Map<string, Map<string, number>>;

const day = (column: string) => `to_char(${column} AT TIME ZONE $2, 'YYYY-MM-DD')`;

/**
 * Straight from the schema's notes (services.py): documents = COMPLETED file executions;
 * pages = sum(page_usage.pages_processed); failed pages = pages of file executions in ERROR;
 * LLM metrics over usage WHERE usage_type = 'llm'; executions via workflow.organization_id,
 * API = pipeline_id in api_deployment, ETL = pipeline_id in pipeline(type ETL). Unstract has
 * no HITL tables in this schema, so hitl_reviews and hitl_completions are zero.
 */
const ORACLE_SQL: Record<string, string> = {
  documents_processed: `SELECT ${day('fe.created_at')} AS d, count(*)::float8 AS v
    FROM workflow_file_execution fe JOIN workflow_execution we ON we.id = fe.workflow_execution_id
    JOIN workflow w ON w.id = we.workflow_id JOIN organization o ON o.id = w.organization_id
    WHERE o.organization_id = $1 AND fe.status = 'COMPLETED' GROUP BY 1`,
  pages_processed: `SELECT ${day('pu.created_at')} AS d, sum(pu.pages_processed)::float8 AS v
    FROM page_usage pu WHERE pu.organization_id = $1 GROUP BY 1`,
  failed_pages: `SELECT ${day('pu.created_at')} AS d, sum(pu.pages_processed)::float8 AS v
    FROM page_usage pu JOIN workflow_file_execution fe ON fe.id::text = pu.run_id
    WHERE pu.organization_id = $1 AND fe.status = 'ERROR' GROUP BY 1`,
  llm_calls: `SELECT ${day('u.created_at')} AS d, count(*)::float8 AS v
    FROM usage u JOIN organization o ON o.id = u.organization_id WHERE o.organization_id = $1 AND u.usage_type = 'llm' GROUP BY 1`,
  challenges: `SELECT ${day('u.created_at')} AS d, count(*)::float8 AS v
    FROM usage u JOIN organization o ON o.id = u.organization_id
    WHERE o.organization_id = $1 AND u.usage_type = 'llm' AND u.llm_usage_reason = 'challenge' GROUP BY 1`,
  summarization_calls: `SELECT ${day('u.created_at')} AS d, count(*)::float8 AS v
    FROM usage u JOIN organization o ON o.id = u.organization_id
    WHERE o.organization_id = $1 AND u.usage_type = 'llm' AND u.llm_usage_reason = 'summarize' GROUP BY 1`,
  llm_usage: `SELECT ${day('u.created_at')} AS d, sum(u.cost_in_dollars)::float8 AS v
    FROM usage u JOIN organization o ON o.id = u.organization_id WHERE o.organization_id = $1 AND u.usage_type = 'llm' GROUP BY 1`,
  deployed_api_requests: `SELECT ${day('we.created_at')} AS d, count(*)::float8 AS v
    FROM workflow_execution we JOIN workflow w ON w.id = we.workflow_id JOIN organization o ON o.id = w.organization_id
    WHERE o.organization_id = $1 AND we.pipeline_id IN (SELECT id FROM api_deployment) GROUP BY 1`,
  etl_pipeline_executions: `SELECT ${day('we.created_at')} AS d, count(*)::float8 AS v
    FROM workflow_execution we JOIN workflow w ON w.id = we.workflow_id JOIN organization o ON o.id = w.organization_id
    WHERE o.organization_id = $1 AND we.pipeline_id IN (SELECT id FROM pipeline WHERE pipeline_type = 'ETL') GROUP BY 1`,
  prompt_executions: `SELECT ${day('we.created_at')} AS d, count(*)::float8 AS v
    FROM workflow_execution we JOIN workflow w ON w.id = we.workflow_id JOIN organization o ON o.id = w.organization_id
    WHERE o.organization_id = $1 GROUP BY 1`,
};

export async function oracleDays(client: pg.Client, orgId: string, timeZone: string): Promise<OracleDays> {
  const result: OracleDays = new Map();
  for (const metric of SEED_000_METRICS) {
    const days = new Map<string, number>();
    const sql = ORACLE_SQL[metric];
    if (sql !== undefined) {
      const { rows } = await client.query<{ d: string; v: number }>(sql, [orgId, timeZone]);
      for (const row of rows) if (row.v !== 0) days.set(row.d, row.v);
    }
    result.set(metric, days);
  }
  return result;
}

import { useMemo, useState } from 'react';
import type { Scope } from '../api/queries.ts';
import { useWorkflowUsage } from '../api/queries.ts';
import type { WorkflowUsageRow } from '../api/types.ts';
import { downloadText, toCsv } from '../lib/csv.ts';
import { formatCount, formatUsd } from '../lib/format.ts';
import type { TimeRange } from '../lib/time.ts';
import { Panel } from './Panel.tsx';

type SortKey = 'deployment_name' | 'total_tokens' | 'call_count' | 'total_cost' | 'execution_count' | 'total_pages_processed';

const COLUMNS: { key: SortKey; label: string; numeric: boolean; format: (row: WorkflowUsageRow) => string }[] = [
  { key: 'deployment_name', label: 'Workflow', numeric: false, format: (r) => r.deployment_name || r.deployment_id },
  { key: 'total_tokens', label: 'Tokens', numeric: true, format: (r) => formatCount(r.total_tokens) },
  { key: 'call_count', label: 'LLM calls', numeric: true, format: (r) => formatCount(r.call_count) },
  { key: 'total_cost', label: 'Cost', numeric: true, format: (r) => formatUsd(r.total_cost) },
  { key: 'execution_count', label: 'Executions', numeric: true, format: (r) => formatCount(r.execution_count) },
  { key: 'total_pages_processed', label: 'Pages', numeric: true, format: (r) => formatCount(r.total_pages_processed) },
];

const PAGE_SIZE = 10;
const DEPLOYMENT_TYPES = [
  { value: '', label: 'All types' },
  { value: 'API', label: 'API' },
  { value: 'ETL', label: 'ETL' },
  { value: 'TASK', label: 'Task' },
  { value: 'WF', label: 'Workflow' },
];

function compareRows(a: WorkflowUsageRow, b: WorkflowUsageRow, key: SortKey): number {
  if (key === 'deployment_name') return (a.deployment_name || a.deployment_id).localeCompare(b.deployment_name || b.deployment_id);
  return (Number(a[key]) || 0) - (Number(b[key]) || 0);
}

export function WorkflowUsage({ scope, range }: { scope: Scope; range: TimeRange }) {
  const [deploymentType, setDeploymentType] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'total_tokens', descending: true });
  const [page, setPage] = useState(0);
  const usage = useWorkflowUsage(scope, range, deploymentType);

  const rows = useMemo(() => {
    const sorted = [...(usage.data?.deployments ?? [])].sort((a, b) => compareRows(a, b, sort.key));
    return sort.descending ? sorted.reverse() : sorted;
  }, [usage.data, sort]);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const visible = rows.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);

  const sortBy = (key: SortKey) => {
    setSort((s) => ({ key, descending: s.key === key ? !s.descending : key !== 'deployment_name' }));
    setPage(0);
  };
  const exportCsv = () =>
    downloadText(
      'llm-usage-by-workflow.csv',
      toCsv(
        ['workflow_id', 'workflow', 'total_tokens', 'call_count', 'total_cost_usd', 'execution_count', 'completed', 'failed', 'pages'],
        rows.map((r) => [r.deployment_id, r.deployment_name, r.total_tokens, r.call_count, r.total_cost, r.execution_count, r.completed_executions, r.failed_executions, r.total_pages_processed]),
      ),
    );

  const actions = (
    <>
      <label className="inline-label">
        <span className="sr-only">Deployment type</span>
        <select value={deploymentType} onChange={(e) => { setDeploymentType(e.target.value); setPage(0); }} data-testid="workflow-type">
          {DEPLOYMENT_TYPES.map((t) => (
            <option key={t.value} value={t.value}>{t.label}</option>
          ))}
        </select>
      </label>
      <button type="button" className="link-button" onClick={exportCsv} disabled={rows.length === 0} data-testid="workflow-csv">
        Download CSV
      </button>
    </>
  );

  return (
    <Panel title="LLM usage by workflow" testId="panel-workflows" what="LLM usage by workflow" queries={[usage]} actions={actions} className="wide" skeletonHeight={220}>
      {() =>
        rows.length === 0 ? (
          <p className="muted">No LLM calls with a workflow in this range.</p>
        ) : (
          <>
            <div className="table-scroll">
              <table className="data-table" data-testid="workflow-table">
                <thead>
                  <tr>
                    {COLUMNS.map((col) => (
                      <th
                        key={col.key}
                        scope="col"
                        className={col.numeric ? 'num' : undefined}
                        aria-sort={sort.key === col.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}
                      >
                        <button type="button" className="sort-button" onClick={() => sortBy(col.key)} data-testid={`workflow-sort-${col.key}`}>
                          {col.label}
                          <span aria-hidden="true">{sort.key === col.key ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
                        </button>
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {visible.map((row) => (
                    <tr key={row.deployment_id}>
                      {COLUMNS.map((col) => (
                        <td key={col.key} className={col.numeric ? 'num' : undefined}>{col.format(row)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <nav className="pager" aria-label="Workflow table pages">
              <button type="button" onClick={() => setPage(current - 1)} disabled={current === 0} data-testid="workflow-prev">
                Previous
              </button>
              <span aria-live="polite">
                Page {current + 1} of {pages} · {rows.length} workflows
              </span>
              <button type="button" onClick={() => setPage(current + 1)} disabled={current >= pages - 1} data-testid="workflow-next">
                Next
              </button>
            </nav>
          </>
        )
      }
    </Panel>
  );
}

import type { Scope } from '../api/queries.ts';
import { useRecentActivity } from '../api/queries.ts';
import { formatCount, formatUsd } from '../lib/format.ts';
import { formatDateTime, formatRelative } from '../lib/time.ts';
import { Panel } from './Panel.tsx';

const TYPE_LABELS: Record<string, string> = { etl: 'ETL', api: 'API', workflow: 'Workflow', task: 'Task' };

function statusClass(status: string | null): string {
  const value = (status ?? '').toUpperCase();
  if (['COMPLETED', 'SUCCESS', 'SUCCEEDED'].includes(value)) return 'good';
  if (['ERROR', 'FAILED', 'FAILURE'].includes(value)) return 'bad';
  return 'neutral';
}

export function RecentActivity({ scope, now }: { scope: Scope; now: number }) {
  const activity = useRecentActivity(scope, 10);
  return (
    <Panel title="Recent activity" testId="panel-activity" what="recent activity" queries={[activity]} skeletonHeight={300} className="tall">
      {() => {
        const items = activity.data?.activity ?? [];
        if (items.length === 0) return <p className="muted">No executions recorded yet.</p>;
        return (
          <ul className="activity" data-testid="activity-list">
            {items.map((item) => {
              const at = Date.parse(item.created_at);
              return (
                <li key={item.id} className="activity-item">
                  <div className="activity-head">
                    <span className="tag">{TYPE_LABELS[item.type] ?? item.type}</span>
                    <span className={`status ${statusClass(item.status)}`}>{item.status ?? 'unknown'}</span>
                    <time dateTime={item.created_at} title={formatDateTime(at, scope.tz)}>
                      {formatRelative(at, now)}
                    </time>
                  </div>
                  <div className="activity-name" title={item.file_name ?? undefined}>
                    {item.file_name || item.workflow_name || item.execution_id || item.id}
                  </div>
                  <div className="activity-meta muted">
                    {item.workflow_name ? <span>{item.workflow_name}</span> : null}
                    {item.total_tokens !== null ? <span>{formatCount(item.total_tokens)} tokens</span> : null}
                    {item.cost !== null ? <span>{formatUsd(item.cost)}</span> : null}
                    {item.execution_time !== null ? <span>{formatCount(item.execution_time)} s</span> : null}
                  </div>
                </li>
              );
            })}
          </ul>
        );
      }}
    </Panel>
  );
}

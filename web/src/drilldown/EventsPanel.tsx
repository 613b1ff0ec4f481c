import { useEffect, useState } from 'react';
import { apiGet, describeError, orgPath } from '../api/client.ts';
import type { Scope } from '../api/queries.ts';

/** What a drill-down shows: the events feeding `metric` in [start, end) of the dashboard's scope. */
export interface DrillTarget {
  metric: string;
  label: string;
  start: number;
  end: number;
}

interface EventRow {
  id: string;
  type: string;
  timestamp: string;
  project: string;
  attributes: Record<string, string | number | boolean | null>;
}

interface EventsPage {
  events: EventRow[];
  next_cursor: string | null;
}

const SHOWN_ATTRIBUTES = ['workflow_name', 'file_name', 'model', 'status', 'pages', 'failed_pages', 'total_tokens', 'cost_usd', 'execution_id'];

function summary(attributes: EventRow['attributes']): string {
  return SHOWN_ATTRIBUTES.filter((key) => attributes[key] !== undefined && attributes[key] !== null)
    .map((key) => `${key}=${String(attributes[key])}`)
    .join('  ');
}

/** The events behind a chart point, newest first, 50 at a time (GET /api/v1/orgs/{org}/events). */
export function EventsPanel({ scope, target, onClose }: { scope: Scope; target: DrillTarget; onClose: () => void }) {
  const [rows, setRows] = useState<EventRow[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading');
  const [error, setError] = useState('');

  async function load(after: string | null) {
    setState('loading');
    try {
      const page = await apiGet<EventsPage>(scope.apiKey, orgPath(scope.orgId, 'events'), {
        metric: target.metric,
        start: new Date(target.start).toISOString(),
        end: new Date(target.end).toISOString(),
        tz: scope.tz,
        project: scope.project || undefined,
        limit: 50,
        cursor: after ?? undefined,
      });
      setRows((previous) => (after === null ? page.events : [...previous, ...page.events]));
      setCursor(page.next_cursor);
      setState('ready');
    } catch (failure) {
      setError(describeError(failure));
      setState('error');
    }
  }

  useEffect(() => {
    void load(null);
    // A new target starts over.
  }, [target.metric, target.start, target.end, scope.orgId, scope.project]);

  return (
    <section className="panel drilldown" data-testid="drilldown-panel" aria-label={`Events behind ${target.label}`}>
      <header className="drilldown-header">
        <h3>
          Events behind {target.label} <span className="muted">({target.metric})</span>
        </h3>
        <button type="button" onClick={onClose} data-testid="drilldown-close">
          Close
        </button>
      </header>
      {state === 'error' ? <p className="form-error">Could not load the events: {error}</p> : null}
      {rows.length === 0 && state === 'ready' ? <p className="muted">No events in this bucket.</p> : null}
      {rows.length > 0 ? (
        <table className="drilldown-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Type</th>
              <th scope="col">Project</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} data-testid="drilldown-row" data-event-id={row.id}>
                <td>{row.timestamp}</td>
                <td>{row.type}</td>
                <td>{row.project}</td>
                <td className="drilldown-details">{summary(row.attributes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {state === 'loading' ? <p className="muted">Loading events…</p> : null}
      {cursor !== null && state === 'ready' ? (
        <button type="button" onClick={() => void load(cursor)} data-testid="drilldown-more">
          Load more
        </button>
      ) : null}
    </section>
  );
}

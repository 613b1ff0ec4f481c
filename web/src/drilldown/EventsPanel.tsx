import { useEffect, useRef, useState } from 'react';
import { apiGet, describeError, orgPath } from '../api/client.ts';
import type { Scope } from '../api/queries.ts';
import { formatDateTime } from '../lib/time.ts';

/**
 * What a drill-down shows: the events feeding `metric` (or of `type`) in [start, end) of the
 * dashboard's scope (project, zone), narrowed by attribute equality (`filters`).
 */
export interface DrillTarget {
  metric?: string;
  type?: string;
  label: string;
  start: number;
  end: number;
  filters?: Record<string, string>;
  /** The attribute holding the metric's value, shown in its own column. */
  valueAttribute?: string | null;
  /** Only events whose value is not zero (failed pages: the page records that had failures). */
  nonZero?: boolean;
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

const SHOWN_ATTRIBUTES = ['workflow_name', 'file_name', 'model', 'status', 'status_code', 'endpoint', 'pages', 'failed_pages', 'total_tokens', 'cost_usd', 'latency_ms', 'execution_id'];

function summary(attributes: EventRow['attributes'], skip: string | null | undefined): string {
  return SHOWN_ATTRIBUTES.filter((key) => key !== skip && attributes[key] !== undefined && attributes[key] !== null)
    .map((key) => `${key}=${String(attributes[key])}`)
    .join('  ');
}

/** The events behind a chart point or a table row, newest first, 50 at a time (GET /api/v1/orgs/{org}/events). */
export function EventsPanel({ scope, target, onClose }: { scope: Scope; target: DrillTarget; onClose: () => void }) {
  const [rows, setRows] = useState<EventRow[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading');
  const [error, setError] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const filterKey = JSON.stringify(target.filters ?? {});

  async function load(after: string | null) {
    setState('loading');
    try {
      const filters = Object.fromEntries(Object.entries(target.filters ?? {}).map(([attribute, value]) => [`filter.${attribute}`, value]));
      const page = await apiGet<EventsPage>(scope.apiKey, orgPath(scope.orgId, 'events'), {
        metric: target.metric,
        type: target.type,
        start: new Date(target.start).toISOString(),
        end: new Date(target.end).toISOString(),
        tz: scope.tz,
        project: scope.project || undefined,
        limit: 50,
        cursor: after ?? undefined,
        nonzero: target.nonZero ? 'true' : undefined,
        ...filters,
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
    setRows([]);
    void load(null);
    heading.current?.focus();
    // A new target starts over.
  }, [target.metric, target.type, target.start, target.end, target.nonZero, filterKey, scope.orgId, scope.project, scope.tz]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const valueAttribute = target.valueAttribute ?? null;
  const what = target.metric ?? target.type ?? 'events';
  const narrowed = Object.entries(target.filters ?? {}).map(([attribute, value]) => `${attribute} = ${value}`);
  return (
    <aside className="drilldown" data-testid="drilldown-panel" data-metric={target.metric ?? ''} aria-label={`Events behind ${target.label}`}>
      <header className="drilldown-header">
        <h2 ref={heading} tabIndex={-1}>
          Events behind {target.label}
        </h2>
        <button type="button" onClick={onClose} data-testid="drilldown-close">
          Close
        </button>
      </header>
      <p className="muted drilldown-scope" data-testid="drilldown-scope">
        <code>{what}</code> from {formatDateTime(target.start, scope.tz)} to {formatDateTime(target.end, scope.tz)} ({scope.tz})
        {scope.project ? `, project ${scope.project}` : ''}
        {narrowed.length > 0 ? `, ${narrowed.join(', ')}` : ''}
        {target.nonZero && valueAttribute ? `, ${valueAttribute} above zero` : ''}. Newest first.
      </p>
      {state === 'error' ? <p className="form-error">Could not load the events: {error}</p> : null}
      {rows.length === 0 && state === 'ready' ? <p className="muted">No events in this bucket.</p> : null}
      {rows.length > 0 ? (
        <div className="table-scroll">
          <table className="data-table drilldown-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Project</th>
                {valueAttribute ? <th scope="col" className="num">{valueAttribute}</th> : null}
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} data-testid="drilldown-row" data-event-id={row.id}>
                  <td className="nowrap">{row.timestamp.replace('T', ' ')}</td>
                  <td>{row.type}</td>
                  <td>{row.project}</td>
                  {valueAttribute ? <td className="num" data-testid="drilldown-value">{String(row.attributes[valueAttribute] ?? '')}</td> : null}
                  <td className="drilldown-details">{summary(row.attributes, valueAttribute)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {state === 'loading' ? <p className="muted">Loading events…</p> : null}
      {cursor !== null && state === 'ready' ? (
        <button type="button" onClick={() => void load(cursor)} data-testid="drilldown-more">
          Load more
        </button>
      ) : null}
    </aside>
  );
}

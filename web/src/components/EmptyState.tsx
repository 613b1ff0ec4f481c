import { useState } from 'react';

function curlLine(origin: string): string {
  const event = JSON.stringify([{ type: 'page_usage', timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), pages: 3, file_name: 'invoice.pdf' }]);
  return `curl -X POST ${origin}/api/v1/events -H "Authorization: Bearer $METERBOARD_INGEST_KEY" -H "Content-Type: application/json" -d '${event}'`;
}

/** Shown when the range holds no data: how to get the first event in. */
export function EmptyState({ orgId }: { orgId: string }) {
  const [command] = useState(() => curlLine(window.location.origin));
  const [copied, setCopied] = useState<'idle' | 'done' | 'failed'>('idle');

  async function copy() {
    try {
      await navigator.clipboard.writeText(command);
      setCopied('done');
    } catch {
      setCopied('failed');
    }
  }

  return (
    <section className="panel empty-state wide" data-testid="empty-state" aria-labelledby="empty-title">
      <h2 id="empty-title">No events in this range</h2>
      <p>
        Nothing has been recorded for <strong>{orgId}</strong> between these dates. If this organization has not sent any events yet,
        create an ingest key (<code>meterboard key create</code>, or <code>POST /api/v1/orgs/{orgId}/keys</code> with scope{' '}
        <code>ingest</code>) and send one:
      </p>
      <pre className="code-block" data-testid="empty-curl">
        <code>{command}</code>
      </pre>
      <div className="empty-actions">
        <button type="button" onClick={copy} data-testid="empty-copy">
          Copy command
        </button>
        <span role="status" className="muted">
          {copied === 'done' ? 'Copied.' : copied === 'failed' ? 'Copy failed: select the text and copy it.' : ''}
        </span>
      </div>
      <p className="muted">Events are rolled up within a minute; then press Refresh.</p>
    </section>
  );
}

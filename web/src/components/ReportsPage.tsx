import { useQuery } from '@tanstack/react-query';
import { ApiError, apiGet, apiGetText, orgPath } from '../api/client.ts';
import type { Scope } from '../api/queries.ts';
import { ErrorState, Skeleton } from './Panel.tsx';

interface ReportHistory {
  reports: Array<{ date: string; status: string; deliveries: Array<{ channel: string; status: string; attempts: number; last_error: string | null; delivered_at: string | null }> }>;
}

/** The latest daily report exactly as it was sent (archived HTML), and the delivery history. */
export function ReportsPage({ scope }: { scope: Scope }) {
  const latest = useQuery({
    queryKey: ['org', scope.orgId, 'reports-latest'],
    queryFn: ({ signal }) => apiGetText(scope.apiKey, orgPath(scope.orgId, 'reports/latest'), { format: 'html' }, signal),
    retry: (count, error) => !(error instanceof ApiError && error.status === 404) && count < 2,
  });
  const history = useQuery({
    queryKey: ['org', scope.orgId, 'reports-history'],
    queryFn: ({ signal }) => apiGet<ReportHistory>(scope.apiKey, orgPath(scope.orgId, 'reports'), { limit: 30 }, signal),
  });
  const none = latest.error instanceof ApiError && latest.error.status === 404;
  return (
    <div className="reports-page" data-testid="reports-page">
      <section className="panel wide">
        <h2>Latest daily report</h2>
        {latest.isPending ? <Skeleton height={400} /> : null}
        {none ? <p className="muted" data-testid="reports-none">No report has been sent yet. Set recipients with <code>meterboard report-settings</code>; reports go out after each local midnight.</p> : null}
        {latest.isError && !none ? <ErrorState what="the latest report" error={latest.error} onRetry={() => void latest.refetch()} testId="reports-error" /> : null}
        {latest.data ? <iframe title="Latest daily report" className="report-frame" sandbox="" srcDoc={latest.data} data-testid="report-frame" /> : null}
      </section>
      <section className="panel wide">
        <h2>History</h2>
        {history.data ? (
          <table className="data-table" data-testid="reports-history">
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Status</th>
                <th scope="col">Deliveries</th>
              </tr>
            </thead>
            <tbody>
              {history.data.reports.map((report) => (
                <tr key={report.date}>
                  <td>{report.date}</td>
                  <td className={report.status === 'delivered' ? 'good' : report.status === 'failed' ? 'bad' : ''}>{report.status}</td>
                  <td>
                    {report.deliveries
                      .map((d) => `${d.channel}: ${d.status}${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}${d.last_error ? ` (${d.last_error})` : ''}`)
                      .join('; ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : history.isError ? (
          <ErrorState what="the report history" error={history.error} onRetry={() => void history.refetch()} testId="reports-history-error" />
        ) : (
          <Skeleton height={120} />
        )}
      </section>
    </div>
  );
}

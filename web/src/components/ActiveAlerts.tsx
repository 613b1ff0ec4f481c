import { useQuery } from '@tanstack/react-query';
import { apiGet, orgPath } from '../api/client.ts';
import type { Scope } from '../api/queries.ts';
import { formatCount, humanizeMetric } from '../lib/format.ts';
import { ErrorState } from './Panel.tsx';

/** One rule breaching now, as `GET /api/v1/orgs/{org}/alerts/active` returns it (read key). */
interface ActiveAlert {
  rule_id: string;
  name: string;
  metric: string;
  dimension?: { name: string; value: string };
  condition: 'above' | 'below' | 'change_pct';
  threshold: number;
  window: string;
  compare_to?: string;
  since: string;
  value: number | null;
}

const REFRESH_MS = 60_000;

function conditionText(alert: ActiveAlert): string {
  const scope = alert.dimension ? ` (${alert.dimension.name} = ${alert.dimension.value})` : '';
  if (alert.condition === 'change_pct') return `${humanizeMetric(alert.metric)}${scope}, ${alert.window} vs ${alert.compare_to ?? '?'} earlier: change ${alert.threshold >= 0 ? '≥' : '≤'} ${alert.threshold} %`;
  return `${humanizeMetric(alert.metric)}${scope} over ${alert.window} ${alert.condition === 'above' ? '>' : '<'} ${formatCount(alert.threshold)}`;
}

function valueText(alert: ActiveAlert): string {
  if (alert.value === null) return 'no data';
  return alert.condition === 'change_pct' ? `${alert.value >= 0 ? '+' : ''}${alert.value.toFixed(1)} %` : formatCount(alert.value);
}

/**
 * The alert rules breaching now (dashboard). Shows nothing while there are none, so a healthy
 * organization's dashboard is unchanged; refreshed every minute (rules are evaluated after each
 * aggregation pass).
 */
export function ActiveAlerts({ scope }: { scope: Scope }) {
  const active = useQuery({
    queryKey: ['org', scope.orgId, 'alerts-active'],
    queryFn: ({ signal }) => apiGet<{ active: ActiveAlert[] }>(scope.apiKey, orgPath(scope.orgId, 'alerts/active'), {}, signal),
    refetchInterval: REFRESH_MS,
  });
  if (active.isError) return <ErrorState what="the active alerts" error={active.error} onRetry={() => void active.refetch()} testId="active-alerts-error" />;
  if (!active.data || active.data.active.length === 0) return null;
  return (
    <section className="panel full active-alerts" data-testid="active-alerts" aria-live="polite">
      <h2>Active alerts ({active.data.active.length})</h2>
      <ul>
        {active.data.active.map((alert) => (
          <li key={alert.rule_id} className="bad" data-testid="active-alert">
            <strong>{alert.name}</strong>: {conditionText(alert)} — now {valueText(alert)}, since <time dateTime={alert.since}>{new Date(alert.since).toLocaleString()}</time>
          </li>
        ))}
      </ul>
    </section>
  );
}

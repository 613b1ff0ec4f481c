import { useMemo, useState } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import type { DashboardResponse } from '../api/types.ts';
import { useAggregates } from '../api/queries.ts';
import type { Scope } from '../api/queries.ts';
import { ChartView } from '../charts/ChartView.tsx';
import { percentilesToChart, rankingToChart, timestampsToChart } from '../charts/from-api.ts';
import { isEmptyChart } from '../charts/chart-data.ts';
import { parseBucketTime } from '../lib/time.ts';
import type { TimeRange } from '../lib/time.ts';
import { Panel } from './Panel.tsx';

const LATENCY_METRICS = [
  { id: 'request_latency_ms', label: 'API requests' },
  { id: 'llm.latency_ms', label: 'LLM calls' },
];

export function LatencyPanel({ scope, range }: { scope: Scope; range: TimeRange }) {
  const [metric, setMetric] = useState(LATENCY_METRICS[0]?.id ?? 'request_latency_ms');
  const aggregates = useAggregates(scope, range, metric);
  const data = useMemo(() => percentilesToChart(aggregates.data, range.granularity, scope.tz), [aggregates.data, range.granularity, scope.tz]);
  const picker = (
    <label className="inline-label">
      <span className="sr-only">Latency of</span>
      <select value={metric} onChange={(e) => setMetric(e.target.value)} data-testid="latency-metric">
        {LATENCY_METRICS.map((m) => (
          <option key={m.id} value={m.id}>
            {m.label}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <Panel title="Latency p50 / p95 / p99" testId="panel-latency" what={`the ${metric} percentiles`} queries={[aggregates]} actions={picker}>
      {() =>
        data.keys.length === 0 ? (
          <p className="muted chart-placeholder">No latency recorded in this range.</p>
        ) : (
          <ChartView title="Latency percentiles" data={data} kind="line" testId="chart-latency" />
        )
      }
    </Panel>
  );
}

interface DashboardPanelProps {
  dashboard: UseQueryResult<DashboardResponse>;
  range: TimeRange;
  tz: string;
}

/** Seed 002 fixes the grain only for presets; read it off the timestamps when there are two. */
function inferGrain(timestamps: string[], tz: string, fallback: 'hour' | 'day'): 'hour' | 'day' {
  const [first, second] = timestamps;
  if (first === undefined || second === undefined) return fallback;
  return parseBucketTime(second, tz) - parseBucketTime(first, tz) < 20 * 3_600_000 ? 'hour' : 'day';
}

function NoData({ children }: { children: string }) {
  return <p className="muted chart-placeholder">{children}</p>;
}

export function RequestsPanel({ dashboard, range, tz }: DashboardPanelProps) {
  const data = useMemo(() => {
    const requests = dashboard.data?.requests ?? { timestamps: [], success: [], error: [] };
    const grain = inferGrain(requests.timestamps, tz, range.dashboardRange === '24h' ? 'hour' : 'day');
    return timestampsToChart(
      requests.timestamps,
      [
        { name: 'Successful', values: requests.success, color: '#059669' },
        { name: 'Errors', values: requests.error, color: '#dc2626' },
      ],
      grain,
      tz,
      'count',
    );
  }, [dashboard.data, range.dashboardRange, tz]);
  return (
    <Panel title="API requests" testId="panel-requests" what="the requests series" queries={[dashboard]}>
      {() => <ChartView title="API requests, successful and errors" data={data} kind="stacked-bar" testId="chart-requests" />}
    </Panel>
  );
}

export function TopModelsPanel({ dashboard }: DashboardPanelProps) {
  const data = useMemo(
    () => rankingToChart((dashboard.data?.topModels ?? []).map((m) => ({ name: m.name, value: m.requests })), 'Model', 'Requests', 'count'),
    [dashboard.data],
  );
  return (
    <Panel title="Top models" testId="panel-models" what="the top models" queries={[dashboard]} skeletonHeight={180}>
      {() => (isEmptyChart(data) ? <NoData>No model calls in this range.</NoData> : <ChartView title="Top models by requests" data={data} kind="hbar" testId="chart-models" />)}
    </Panel>
  );
}

export function ErrorsPanel({ dashboard }: DashboardPanelProps) {
  const data = useMemo(
    () => rankingToChart((dashboard.data?.errorsBreakdown ?? []).map((e) => ({ name: e.label, value: e.value })), 'Status code', 'Errors', 'count'),
    [dashboard.data],
  );
  return (
    <Panel title="Errors by status code" testId="panel-errors" what="the error breakdown" queries={[dashboard]} skeletonHeight={180}>
      {() => (isEmptyChart(data) ? <NoData>No failed requests in this range.</NoData> : <ChartView title="Errors by status code" data={data} kind="hbar" testId="chart-errors" />)}
    </Panel>
  );
}

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(undefined, { type: 'region' });
  } catch {
    return null;
  }
})();

function countryName(code: string): string {
  if (!/^[A-Z]{2}$/i.test(code)) return code || 'Unknown';
  try {
    return `${regionNames?.of(code.toUpperCase()) ?? code} (${code.toUpperCase()})`;
  } catch {
    return code;
  }
}

export function CountriesPanel({ dashboard }: DashboardPanelProps) {
  const data = useMemo(
    () =>
      rankingToChart(
        (dashboard.data?.topCountries ?? []).map((c) => ({ name: countryName(c.countryCode), value: c.requests })),
        'Country',
        'Requests',
        'count',
      ),
    [dashboard.data],
  );
  return (
    <Panel title="Top countries" testId="panel-countries" what="the top countries" queries={[dashboard]} skeletonHeight={180}>
      {() => (isEmptyChart(data) ? <NoData>No requests with a country in this range.</NoData> : <ChartView title="Top countries by requests" data={data} kind="hbar" testId="chart-countries" />)}
    </Panel>
  );
}

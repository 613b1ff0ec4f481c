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
import { bucketBounds, rangeBounds, type OpenDrill } from '../drilldown/drill.ts';
import { metricInfo, type MetricInfoMap } from '../metrics/metric-info.ts';
import { partialBucketIndex } from './SeriesPanels.tsx';

export const LATENCY_METRICS = ['request_latency_ms', 'llm.latency_ms'];

interface LatencyPanelProps {
  scope: Scope;
  range: TimeRange;
  /** The latency metrics offered (those with data, unless "show all"). */
  metrics: string[];
  onDrill: OpenDrill;
  info: MetricInfoMap | undefined;
}

export function LatencyPanel({ scope, range, metrics, onDrill, info }: LatencyPanelProps) {
  const [chosen, setMetric] = useState(metrics[0] ?? 'request_latency_ms');
  const metric = metrics.includes(chosen) ? chosen : (metrics[0] ?? chosen);
  const aggregates = useAggregates(scope, range, metric);
  const data = useMemo(() => percentilesToChart(aggregates.data, range.granularity, scope.tz), [aggregates.data, range.granularity, scope.tz]);
  const picker = (
    <label className="inline-label">
      <span className="sr-only">Latency of</span>
      <select value={metric} onChange={(e) => setMetric(e.target.value)} data-testid="latency-metric" title={metricInfo(info, metric).description}>
        {metrics.map((id) => (
          <option key={id} value={id} title={metricInfo(info, id).description}>
            {metricInfo(info, id).label}
          </option>
        ))}
      </select>
    </label>
  );
  const pick = (index: number) =>
    onDrill({ metric, valueAttribute: 'latency_ms', label: `${metricInfo(info, metric).label}, ${data.labels[index] ?? ''}`, ...bucketBounds(data, range, index) });
  return (
    <Panel title="Latency p50 / p95 / p99" testId="panel-latency" what={`the ${metric} percentiles`} queries={[aggregates]} actions={picker}>
      {() =>
        data.keys.length === 0 ? (
          <p className="muted chart-placeholder">No latency recorded in this range.</p>
        ) : (
          <ChartView title="Latency percentiles" data={data} kind="line" testId="chart-latency" onPick={pick} />
        )
      }
    </Panel>
  );
}

interface DashboardPanelProps {
  dashboard: UseQueryResult<DashboardResponse>;
  range: TimeRange;
  tz: string;
  onDrill: OpenDrill;
  info: MetricInfoMap | undefined;
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

export function RequestsPanel({ dashboard, range, tz, onDrill, info }: DashboardPanelProps) {
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
  // Successful bars list every request of the bucket (errors included: no metric counts successes alone).
  const pick = (index: number, seriesIndex: number) => {
    const metric = seriesIndex === 1 ? 'request_errors' : 'requests';
    onDrill({ metric, label: `${metricInfo(info, metric).label}, ${data.labels[index] ?? ''}`, ...bucketBounds(data, range, index) });
  };
  return (
    <Panel title="API requests" testId="panel-requests" what="the requests series" queries={[dashboard]}>
      {() => <ChartView title="API requests, successful and errors" data={data} kind="stacked-bar" testId="chart-requests" partialIndex={partialBucketIndex(data, range)} onPick={pick} />}
    </Panel>
  );
}

export function TopModelsPanel({ dashboard, range, onDrill }: DashboardPanelProps) {
  const data = useMemo(
    () => rankingToChart((dashboard.data?.topModels ?? []).map((m) => ({ name: m.name, value: m.requests })), 'Model', 'Requests', 'count'),
    [dashboard.data],
  );
  return (
    <Panel title="Top models" testId="panel-models" what="the top models" queries={[dashboard]} skeletonHeight={180}>
      {() => (isEmptyChart(data) ? <NoData>No model calls in this range.</NoData> : <ChartView title="Top models by requests" data={data} kind="hbar" testId="chart-models" onPick={(index) => onDrill({ metric: 'requests', filters: { model: data.keys[index] ?? '' }, label: `API requests to ${data.keys[index] ?? ''}`, ...rangeBounds(range) })} />)}
    </Panel>
  );
}

export function ErrorsPanel({ dashboard, range, onDrill }: DashboardPanelProps) {
  const data = useMemo(
    () => rankingToChart((dashboard.data?.errorsBreakdown ?? []).map((e) => ({ name: e.label, value: e.value })), 'Status code', 'Errors', 'count'),
    [dashboard.data],
  );
  return (
    <Panel title="Errors by status code" testId="panel-errors" what="the error breakdown" queries={[dashboard]} skeletonHeight={180}>
      {() => (isEmptyChart(data) ? <NoData>No failed requests in this range.</NoData> : <ChartView title="Errors by status code" data={data} kind="hbar" testId="chart-errors" onPick={(index) => onDrill({ metric: 'request_errors', filters: { status_code: data.keys[index] ?? '' }, label: `API requests answered ${data.keys[index] ?? ''}`, ...rangeBounds(range) })} />)}
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

export function CountriesPanel({ dashboard, range, onDrill }: DashboardPanelProps) {
  const countries = dashboard.data?.topCountries ?? [];
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
  const pick = (index: number) => {
    const code = countries[index]?.countryCode ?? '';
    onDrill({ metric: 'requests', filters: { country: code }, label: `API requests from ${data.keys[index] ?? code}`, ...rangeBounds(range) });
  };
  return (
    <Panel title="Top countries" testId="panel-countries" what="the top countries" queries={[dashboard]} skeletonHeight={180}>
      {() => (isEmptyChart(data) ? <NoData>No requests with a country in this range.</NoData> : <ChartView title="Top countries by requests" data={data} kind="hbar" testId="chart-countries" onPick={pick} />)}
    </Panel>
  );
}

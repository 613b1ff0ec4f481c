import { useMemo, useState } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import type { SeriesResponse } from '../api/types.ts';
import type { CatalogMetric } from '../api/queries.ts';
import { ChartView } from '../charts/ChartView.tsx';
import { seriesToChart } from '../charts/from-api.ts';
import { isDollarUnit } from '../lib/format.ts';
import type { TimeRange } from '../lib/time.ts';
import { Panel } from './Panel.tsx';
import { bucketBounds, type OpenDrill } from '../drilldown/drill.ts';
import { metricInfo, type MetricInfoMap } from '../metrics/metric-info.ts';
import { MetricName } from '../metrics/MetricName.tsx';
import type { ChartData } from '../charts/chart-data.ts';

interface SeriesPanelProps {
  series: UseQueryResult<SeriesResponse>;
  range: TimeRange;
  tz: string;
  onDrill: OpenDrill;
  info: MetricInfoMap | undefined;
}

/** The last bucket, when the window is cut at "now" inside it (still filling up). */
export function partialBucketIndex(data: ChartData, range: TimeRange): number | undefined {
  const instants = data.instants ?? [];
  const last = instants.length - 1;
  if (last < 0 || range.dataEnd >= range.end) return undefined;
  return instants[last]! < range.dataEnd ? last : undefined;
}

const PAGE_SERIES = [
  { metric: 'pages_processed', color: '#1890ff', value: 'pages' },
  // Failed pages are a small fraction of pages: on their own axis they stay readable.
  { metric: 'failed_pages', color: '#ff4d4f', axis: 1 as const, value: 'failed_pages', nonZero: true },
];

export function PagesPanel({ series, range, tz, onDrill, info }: SeriesPanelProps) {
  const data = useMemo(
    () => seriesToChart(series.data, PAGE_SERIES.map((s) => ({ ...s, label: metricInfo(info, s.metric).label })), range.granularity, tz, 'count'),
    [series.data, range.granularity, tz, info],
  );
  const pick = (index: number, seriesIndex: number) => {
    const picked = PAGE_SERIES[seriesIndex] ?? PAGE_SERIES[0]!;
    onDrill({ metric: picked.metric, valueAttribute: picked.value, nonZero: 'nonZero' in picked ? picked.nonZero : false, label: `${metricInfo(info, picked.metric).label.toLowerCase()}, ${data.labels[index] ?? ''}`, ...bucketBounds(data, range, index) });
  };
  return (
    <Panel title="Pages processed vs failed pages" testId="panel-pages" what="the pages series" queries={[series]}>
      {() => <ChartView title="Pages processed vs failed pages" data={data} kind="area" testId="chart-pages" partialIndex={partialBucketIndex(data, range)} onPick={pick} />}
    </Panel>
  );
}

export function CostPanel({ series, range, tz, onDrill, info }: SeriesPanelProps) {
  const label = metricInfo(info, 'llm_usage').label;
  const data = useMemo(
    () => seriesToChart(series.data, [{ metric: 'llm_usage', label: `${label} (USD)`, color: '#7c3aed' }], range.granularity, tz, 'usd'),
    [series.data, range.granularity, tz, label],
  );
  const pick = (index: number) => onDrill({ metric: 'llm_usage', valueAttribute: 'cost_usd', label: `${label}, ${data.labels[index] ?? ''}`, ...bucketBounds(data, range, index) });
  return (
    <Panel title="LLM cost over time" testId="panel-cost" what="the LLM cost series" queries={[series]}>
      {() => <ChartView title="LLM cost over time" data={data} kind="bar" testId="chart-cost" partialIndex={partialBucketIndex(data, range)} onPick={pick} />}
    </Panel>
  );
}

const DEFAULT_TREND = ['documents_processed', 'llm_calls'];
const TREND_EXCLUDED = new Set(['pages_processed', 'failed_pages']);
const TREND_COLORS = ['#d4a017', '#7c3aed', '#2563eb', '#059669', '#db2777', '#0891b2', '#65a30d', '#ea580c'];

/** Metrics the trend chart may show: counts only, so one axis holds them all; with data unless "show all". */
function trendChoices(series: SeriesResponse | undefined, catalog: CatalogMetric[] | undefined, hasData: (metric: string) => boolean): string[] {
  const names = new Set<string>();
  const byName = new Map((catalog ?? []).map((metric) => [metric.name, metric]));
  for (const entry of series?.series ?? []) {
    if (TREND_EXCLUDED.has(entry.metric_name) || entry.dimension) continue;
    const known = byName.get(entry.metric_name);
    const countLike = known
      ? (known.kind === 'counter' || known.kind === 'sum') && !isDollarUnit(known.unit) && known.unit !== 'ms'
      : entry.metric_type === 'counter';
    if (countLike) names.add(entry.metric_name);
  }
  for (const name of DEFAULT_TREND) names.add(name);
  return [...names]
    .filter(hasData)
    .sort((a, b) => {
      const rank = (n: string) => (DEFAULT_TREND.includes(n) ? DEFAULT_TREND.indexOf(n) : 99);
      return rank(a) - rank(b) || a.localeCompare(b);
    });
}

interface TrendPanelProps extends SeriesPanelProps {
  catalog: CatalogMetric[] | undefined;
  hasData: (metric: string) => boolean;
}

export function TrendPanel({ series, range, tz, catalog, hasData, onDrill, info }: TrendPanelProps) {
  const choices = useMemo(() => trendChoices(series.data, catalog, hasData), [series.data, catalog, hasData]);
  // Until the user picks, the defaults that have data (or the first two that do).
  const [picked, setPicked] = useState<string[] | null>(null);
  const fallback = DEFAULT_TREND.filter((metric) => choices.includes(metric));
  const selected = (picked ?? (fallback.length > 0 ? fallback : choices.slice(0, 2))).filter((metric) => choices.includes(metric));
  const data = useMemo(
    () =>
      seriesToChart(
        series.data,
        selected.map((metric) => ({
          metric,
          label: metricInfo(info, metric).label,
          color: TREND_COLORS[choices.indexOf(metric) % TREND_COLORS.length],
        })),
        range.granularity,
        tz,
        'count',
      ),
    [series.data, selected.join(','), choices, range.granularity, tz, info],
  );
  const toggle = (metric: string) => setPicked(selected.includes(metric) ? selected.filter((m) => m !== metric) : [...selected, metric]);
  const pick = (index: number, seriesIndex: number) => {
    const metric = selected[seriesIndex] ?? selected[0];
    if (metric !== undefined) onDrill({ metric, label: `${metricInfo(info, metric).label}, ${data.labels[index] ?? ''}`, ...bucketBounds(data, range, index) });
  };
  return (
    <Panel title="Trend analysis" testId="panel-trend" what="the trend series" queries={[series]}>
      {() => (
        <>
          <div className="toggles" role="group" aria-label="Metrics shown in the trend chart" data-testid="trend-toggles">
            {choices.map((metric) => (
              <button
                key={metric}
                type="button"
                className="toggle"
                aria-pressed={selected.includes(metric)}
                onClick={() => toggle(metric)}
                data-testid={`trend-toggle-${metric}`}
              >
                <MetricName name={metric} info={info} focusable={false} testId={`trend-name-${metric}`} />
              </button>
            ))}
          </div>
          {selected.length === 0 ? (
            <p className="muted chart-placeholder">Pick at least one metric above.</p>
          ) : (
            <ChartView title="Trend analysis" data={data} kind="line" testId="chart-trend" partialIndex={partialBucketIndex(data, range)} onPick={pick} />
          )}
        </>
      )}
    </Panel>
  );
}

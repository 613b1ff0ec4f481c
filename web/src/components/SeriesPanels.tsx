import { useMemo, useState } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import type { SeriesResponse } from '../api/types.ts';
import type { CatalogMetric } from '../api/queries.ts';
import { ChartView } from '../charts/ChartView.tsx';
import { seriesToChart } from '../charts/from-api.ts';
import { humanizeMetric, isDollarUnit } from '../lib/format.ts';
import type { TimeRange } from '../lib/time.ts';
import { Panel } from './Panel.tsx';
import type { Scope } from '../api/queries.ts';
import { EventsPanel, type DrillTarget } from '../drilldown/EventsPanel.tsx';
import type { ChartData } from '../charts/chart-data.ts';

interface SeriesPanelProps {
  series: UseQueryResult<SeriesResponse>;
  range: TimeRange;
  tz: string;
}

/** The last bucket, when the window is cut at "now" inside it (still filling up). */
export function partialBucketIndex(data: ChartData, range: TimeRange): number | undefined {
  const instants = data.instants ?? [];
  const last = instants.length - 1;
  if (last < 0 || range.dataEnd >= range.end) return undefined;
  return instants[last]! < range.dataEnd ? last : undefined;
}

function bucketBounds(data: ChartData, range: TimeRange, index: number): { start: number; end: number } {
  const instants = data.instants ?? [];
  const start = Math.max(range.start, instants[index] ?? range.start);
  const end = Math.min(range.dataEnd, instants[index + 1] ?? range.end);
  return { start, end };
}

export function PagesPanel({ series, range, tz, scope }: SeriesPanelProps & { scope: Scope }) {
  const [drill, setDrill] = useState<DrillTarget | null>(null);
  const data = useMemo(
    () =>
      seriesToChart(
        series.data,
        [
          { metric: 'pages_processed', label: 'Pages processed', color: '#1890ff' },
          // Failed pages are a small fraction of pages: on their own axis they stay readable.
          { metric: 'failed_pages', label: 'Failed pages', color: '#ff4d4f', axis: 1 },
        ],
        range.granularity,
        tz,
        'count',
      ),
    [series.data, range.granularity, tz],
  );
  return (
    <Panel title="Pages processed vs failed pages" testId="panel-pages" what="the pages series" queries={[series]}>
      {() => (
        <>
          <ChartView
            title="Pages processed vs failed pages"
            data={data}
            kind="area"
            testId="chart-pages"
            partialIndex={partialBucketIndex(data, range)}
            onPick={(index) => setDrill({ metric: 'pages_processed', label: `pages processed, ${data.labels[index] ?? ''}`, ...bucketBounds(data, range, index) })}
          />
          {drill ? <EventsPanel scope={scope} target={drill} onClose={() => setDrill(null)} /> : null}
        </>
      )}
    </Panel>
  );
}

export function CostPanel({ series, range, tz }: SeriesPanelProps) {
  const data = useMemo(
    () => seriesToChart(series.data, [{ metric: 'llm_usage', label: 'LLM cost (USD)', color: '#7c3aed' }], range.granularity, tz, 'usd'),
    [series.data, range.granularity, tz],
  );
  return (
    <Panel title="LLM cost over time" testId="panel-cost" what="the LLM cost series" queries={[series]}>
      {() => <ChartView title="LLM cost over time" data={data} kind="bar" testId="chart-cost" />}
    </Panel>
  );
}

const DEFAULT_TREND = ['documents_processed', 'llm_calls'];
const TREND_EXCLUDED = new Set(['pages_processed', 'failed_pages']);
const TREND_COLORS = ['#d4a017', '#7c3aed', '#2563eb', '#059669', '#db2777', '#0891b2', '#65a30d', '#ea580c'];

/** Metrics the trend chart may show: counts only, so one axis holds them all. */
function trendChoices(series: SeriesResponse | undefined, catalog: CatalogMetric[] | undefined): string[] {
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
  return [...names].sort((a, b) => {
    const rank = (n: string) => (DEFAULT_TREND.includes(n) ? DEFAULT_TREND.indexOf(n) : 99);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
}

interface TrendPanelProps extends SeriesPanelProps {
  catalog: CatalogMetric[] | undefined;
}

export function TrendPanel({ series, range, tz, catalog }: TrendPanelProps) {
  const [selected, setSelected] = useState<string[]>(DEFAULT_TREND);
  const choices = useMemo(() => trendChoices(series.data, catalog), [series.data, catalog]);
  const data = useMemo(
    () =>
      seriesToChart(
        series.data,
        selected.map((metric) => ({
          metric,
          label: humanizeMetric(metric),
          color: TREND_COLORS[choices.indexOf(metric) % TREND_COLORS.length],
        })),
        range.granularity,
        tz,
        'count',
      ),
    [series.data, selected, choices, range.granularity, tz],
  );
  const toggle = (metric: string) =>
    setSelected((current) => (current.includes(metric) ? current.filter((m) => m !== metric) : [...current, metric]));
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
                {humanizeMetric(metric)}
              </button>
            ))}
          </div>
          {selected.length === 0 ? (
            <p className="muted chart-placeholder">Pick at least one metric above.</p>
          ) : (
            <ChartView title="Trend analysis" data={data} kind="line" testId="chart-trend" />
          )}
        </>
      )}
    </Panel>
  );
}

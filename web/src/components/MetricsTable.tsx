import { useMemo, useState } from 'react';
import type { Scope } from '../api/queries.ts';
import { useCompare } from '../api/queries.ts';
import type { CompareMetric, Comparison } from '../api/types.ts';
import { downloadText, toCsv } from '../lib/csv.ts';
import { formatSignedPercent, formatValue, humanizeCategory } from '../lib/format.ts';
import { addLocalDays, localDayBounds } from '../lib/time.ts';
import type { OpenDrill } from '../drilldown/drill.ts';
import { metricInfo, type MetricInfoMap } from '../metrics/metric-info.ts';
import { MetricName } from '../metrics/MetricName.tsx';
import { Panel } from './Panel.tsx';

const PERIODS = [
  { days: '1', label: 'vs Yesterday' },
  { days: '7', label: 'vs 7 days' },
  { days: '30', label: 'vs 30 days' },
] as const;

function ChangeCell({ comparison, unit, testId }: { comparison: Comparison | null | undefined; unit?: string; testId: string }) {
  if (!comparison || comparison.previous === null || comparison.change === null) {
    return (
      <td className="change-cell neutral" data-testid={testId} data-direction="na">
        <span className="muted">N/A</span>
      </td>
    );
  }
  // Colour says good or bad news (from the metric's good direction); the badge says how big.
  const tone = comparison.tone;
  const arrow = comparison.direction === 1 ? '↑' : comparison.direction === -1 ? '↓' : '—';
  const sign = comparison.change > 0 ? '+' : '';
  return (
    <td className={`change-cell ${tone} level-${comparison.level}`} data-testid={testId} data-direction={comparison.direction} data-level={comparison.level} data-tone={tone}>
      <span aria-hidden="true">{arrow}</span>{' '}
      {comparison.direction === 0 ? (
        'no change'
      ) : (
        <>
          {sign}
          {formatValue(comparison.change, unit)}
          {comparison.change_pct !== null ? ` (${formatSignedPercent(comparison.change_pct)})` : ''}
        </>
      )}
      {comparison.level !== 'ok' ? (
        <span className={`level-badge ${comparison.level}`} title={`${comparison.level} threshold crossed`}>
          {comparison.level === 'critical' ? 'critical' : 'warning'}
        </span>
      ) : null}
      <span className="sr-only">
        {comparison.direction === 1 ? 'increase' : comparison.direction === -1 ? 'decrease' : ''}
        {tone === 'neutral' ? '' : ` (${tone})`}
      </span>
    </td>
  );
}

function groupByCategory(metrics: CompareMetric[]): [string, CompareMetric[]][] {
  const groups = new Map<string, CompareMetric[]>();
  for (const metric of metrics) {
    const category = metric.category || 'Other';
    groups.set(category, [...(groups.get(category) ?? []), metric]);
  }
  return [...groups.entries()];
}

interface MetricsTableProps {
  scope: Scope;
  today: string;
  /** Also list metrics without data on any compared day. */
  showAll: boolean;
  info: MetricInfoMap | undefined;
  onDrill: OpenDrill;
}

export function MetricsTable({ scope, today, showAll, info, onDrill }: MetricsTableProps) {
  // The last complete day, as in the daily report; today is still filling up.
  const [date, setDate] = useState(() => {
    try {
      return addLocalDays(today, -1);
    } catch {
      return today;
    }
  });
  const compare = useCompare(scope, date, showAll);
  const groups = useMemo(() => groupByCategory(compare.data?.metrics ?? []), [compare.data]);

  // The compared day in the selected zone, cut at "now" when it is today.
  const drillDay = (metric: string) => {
    const day = localDayBounds(date, scope.tz);
    const end = Math.min(day.end, Math.ceil(Date.now() / 60_000) * 60_000);
    onDrill({ metric, valueAttribute: metricInfo(info, metric).value, label: `${metricInfo(info, metric).label}, ${date}`, start: day.start, end: Math.max(day.start + 1, end) });
  };

  const exportCsv = () => {
    const rows = (compare.data?.metrics ?? []).map((m) => [
      m.category ?? '',
      m.metric_name,
      m.current,
      ...PERIODS.flatMap((p) => {
        const c = m.comparisons[p.days];
        return [c?.previous ?? null, c?.change ?? null, c?.change_pct ?? null, c?.level ?? null, c?.tone ?? null];
      }),
    ]);
    const header = ['category', 'metric', 'current', ...PERIODS.flatMap((p) => [`previous_${p.days}d`, `change_${p.days}d`, `change_pct_${p.days}d`, `level_${p.days}d`, `tone_${p.days}d`])];
    downloadText(`metrics-${date}.csv`, toCsv(header, rows));
  };

  const actions = (
    <>
      <label className="inline-label">
        Day
        <input type="date" value={date} max={today} onChange={(e) => e.target.value && e.target.value <= today && setDate(e.target.value)} data-testid="compare-date" />
      </label>
      <button type="button" className="link-button" onClick={exportCsv} data-testid="compare-csv">
        Download CSV
      </button>
    </>
  );

  return (
    <Panel title="Metrics" testId="panel-compare" what="the metrics comparison" queries={[compare]} actions={actions} className="wide" skeletonHeight={320}>
      {() =>
        groups.length === 0 ? (
          <p className="muted">No metrics to compare for {date}.</p>
        ) : (
          <div className="table-scroll">
            <table className="data-table compare-table" data-testid="compare-table">
              <caption className="sr-only">Metrics on {date} compared with 1, 7 and 30 days earlier</caption>
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col" className="num">Current</th>
                  {PERIODS.map((p) => (
                    <th scope="col" key={p.days}>{p.label}</th>
                  ))}
                  <th scope="col"><span className="sr-only">Events</span></th>
                </tr>
              </thead>
              {groups.map(([category, metrics]) => (
                <tbody key={category}>
                  <tr className="category-row">
                    <th scope="rowgroup" colSpan={6}>{humanizeCategory(category)}</th>
                  </tr>
                  {metrics.map((metric) => (
                    <tr key={metric.metric_name} data-testid={`compare-row-${metric.metric_name}`}>
                      <th scope="row">
                        <MetricName name={metric.metric_name} info={info} description={metric.description || undefined} testId={`compare-name-${metric.metric_name}`} />
                      </th>
                      <td className="num strong" data-testid={`compare-${metric.metric_name}-current`}>
                        {formatValue(metric.current, metric.unit)}
                        {metric.kind === 'distribution' ? <span className="muted sub-value">{metric.current === null ? '' : 'avg'}{metric.p95 !== null ? ` · p95 ${formatValue(metric.p95, metric.unit)}` : ''}</span> : null}
                      </td>
                      {PERIODS.map((p) => (
                        <ChangeCell key={p.days} comparison={metric.comparisons[p.days]} unit={metric.unit} testId={`compare-${metric.metric_name}-${p.days}`} />
                      ))}
                      <td>
                        <button
                          type="button"
                          className="link-button"
                          onClick={() => drillDay(metric.metric_name)}
                          aria-label={`Events behind ${metricInfo(info, metric.metric_name).label} on ${date}`}
                          data-testid={`compare-events-${metric.metric_name}`}
                        >
                          Events
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              ))}
            </table>
          </div>
        )
      }
    </Panel>
  );
}

import { useMemo } from 'react';
import { EChart } from './EChart.tsx';
import type { EChartsCoreOption } from './echarts.ts';
import { chartCsv, describeChart } from './chart-data.ts';
import type { ChartData } from './chart-data.ts';
import { downloadText, safeFileName } from '../lib/csv.ts';
import { formatCompact, formatValue, isDollarUnit } from '../lib/format.ts';

export type ChartKind = 'line' | 'area' | 'bar' | 'stacked-bar' | 'hbar';

interface ChartViewProps {
  title: string;
  data: ChartData;
  kind: ChartKind;
  testId: string;
  height?: number;
  /** Index of the bucket still filling up (the current hour or day): shaded and labelled. */
  partialIndex?: number;
  /** Opens the events behind a point of a series (chart click, or a button in the table). */
  onPick?: (index: number, seriesIndex: number) => void;
}

function axisFormatter(unit: string) {
  if (isDollarUnit(unit)) return (value: number) => `$${formatCompact(value)}`;
  if (unit === 'ms') return (value: number) => `${formatCompact(value)} ms`;
  return (value: number) => formatCompact(value);
}

function buildOption(data: ChartData, kind: ChartKind, partialIndex: number | undefined, pickable: boolean): EChartsCoreOption {
  const horizontal = kind === 'hbar';
  const valueAxis = {
    type: 'value',
    axisLabel: { formatter: axisFormatter(data.unit) },
    splitLine: { lineStyle: { color: '#e5e7eb' } },
  };
  const twoAxes = !horizontal && data.series.some((s) => s.axis === 1);
  const secondAxis = { ...valueAxis, splitLine: { show: false }, name: data.series.filter((s) => s.axis === 1).map((s) => s.name).join(', '), nameTextStyle: { align: 'right' } };
  const partialLabel = partialIndex === undefined ? undefined : data.labels[partialIndex];
  const partialArea =
    partialLabel === undefined
      ? undefined
      : {
          silent: true,
          itemStyle: { color: 'rgba(148, 163, 184, 0.18)' },
          label: { show: true, position: 'insideTop', formatter: 'in progress', color: '#64748b' },
          data: [[{ xAxis: partialLabel }, { xAxis: data.labels[data.labels.length - 1] }]],
        };
  const categoryAxis = {
    type: 'category',
    data: data.labels,
    inverse: horizontal,
    boundaryGap: kind !== 'line' && kind !== 'area',
    axisLabel: { hideOverlap: true },
  };
  return {
    animation: false,
    color: ['#2563eb', '#dc2626', '#d97706', '#7c3aed', '#059669', '#db2777', '#0891b2', '#65a30d'],
    grid: { left: 8, right: 16, top: data.series.length > 1 ? 36 : 16, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    legend: data.series.length > 1 ? { top: 0, type: 'scroll' } : undefined,
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: horizontal ? 'shadow' : 'line' },
      valueFormatter: (value: number) => formatValue(value, data.unit),
    },
    xAxis: horizontal ? valueAxis : categoryAxis,
    yAxis: horizontal ? categoryAxis : twoAxes ? [valueAxis, secondAxis] : valueAxis,
    series: data.series.map((s, i) => ({
      name: s.name,
      yAxisIndex: twoAxes && s.axis === 1 ? 1 : 0,
      ...(i === 0 && partialArea ? { markArea: partialArea } : {}),
      type: kind === 'line' || kind === 'area' ? 'line' : 'bar',
      data: s.values,
      color: s.color,
      stack: kind === 'stacked-bar' ? 'total' : undefined,
      areaStyle: kind === 'area' ? { opacity: 0.12 } : undefined,
      showSymbol: data.labels.length <= 31,
      // A clickable point has to be hit: a larger symbol when it opens the drill-down.
      ...(pickable ? { cursor: 'pointer', symbolSize: 7 } : {}),
      smooth: false,
      barMaxWidth: 28,
    })),
  };
}

/** A chart with its text alternative: an aria-label summary, a visually hidden table and CSV. */
export function ChartView({ title, data, kind, testId, height, partialIndex, onPick }: ChartViewProps) {
  const pickable = onPick !== undefined;
  const option = useMemo(() => buildOption(data, kind, partialIndex, pickable), [data, kind, partialIndex, pickable]);
  const label = useMemo(() => describeChart(title, data), [title, data]);
  const exportCsv = () => downloadText(`${safeFileName(title)}.csv`, chartCsv(data));
  return (
    <div className="chart-view" data-testid={testId}>
      <div className="chart-toolbar">
        <button type="button" className="link-button" onClick={exportCsv} data-testid={`${testId}-csv`}>
          Download CSV
        </button>
      </div>
      <EChart option={option} label={label} height={height ?? (kind === 'hbar' ? Math.max(160, data.labels.length * 30 + 40) : 260)} onPick={onPick} pickAxis={kind === 'hbar' ? 'y' : 'x'} pointCount={data.labels.length} testId={`${testId}-canvas`} />
      {partialIndex !== undefined ? (
        <p className="chart-note muted" data-testid={`${testId}-partial`} data-partial-key={data.keys[partialIndex]}>
          Shaded: {data.labels[partialIndex]} is still in progress, so it is lower than a full {data.keyName === 'Hour' ? 'hour' : 'period'}.
          {onPick ? ` Click a ${kind === 'line' || kind === 'area' ? 'point' : 'bar'} to see its events.` : ''}
        </p>
      ) : onPick ? (
        <p className="chart-note muted">Click a {kind === 'hbar' || kind === 'bar' || kind === 'stacked-bar' ? 'bar' : 'point'} to see its events.</p>
      ) : null}
      {/* Tables ignore width: 1px, so the hiding is done by a wrapper. */}
      <div className="sr-only">
      <table data-testid={`${testId}-table`}>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{data.keyName}</th>
            {data.series.map((s) => (
              <th scope="col" key={s.name}>
                {s.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.keys.map((key, index) => (
            <tr key={`${key}-${index}`}>
              <th scope="row">
                {onPick ? (
                  <button type="button" onClick={() => onPick(index, 0)} aria-label={`Show the events of ${key}`} data-testid={`${testId}-pick-${index}`}>
                    {key}
                  </button>
                ) : (
                  key
                )}
              </th>
              {data.series.map((s, seriesIndex) => (
                <td key={s.name} data-value={s.values[index] ?? 0}>
                  {onPick && seriesIndex > 0 ? (
                    <button type="button" onClick={() => onPick(index, seriesIndex)} aria-label={`Show the events of ${s.name}, ${key}`} data-testid={`${testId}-pick-${index}-${seriesIndex}`}>
                      {formatValue(s.values[index] ?? 0, data.unit)}
                    </button>
                  ) : (
                    formatValue(s.values[index] ?? 0, data.unit)
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </div>
  );
}

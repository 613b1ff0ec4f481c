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
}

function axisFormatter(unit: string) {
  if (isDollarUnit(unit)) return (value: number) => `$${formatCompact(value)}`;
  if (unit === 'ms') return (value: number) => `${formatCompact(value)} ms`;
  return (value: number) => formatCompact(value);
}

function buildOption(data: ChartData, kind: ChartKind): EChartsCoreOption {
  const horizontal = kind === 'hbar';
  const valueAxis = {
    type: 'value',
    axisLabel: { formatter: axisFormatter(data.unit) },
    splitLine: { lineStyle: { color: '#e5e7eb' } },
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
    yAxis: horizontal ? categoryAxis : valueAxis,
    series: data.series.map((s) => ({
      name: s.name,
      type: kind === 'line' || kind === 'area' ? 'line' : 'bar',
      data: s.values,
      color: s.color,
      stack: kind === 'stacked-bar' ? 'total' : undefined,
      areaStyle: kind === 'area' ? { opacity: 0.12 } : undefined,
      showSymbol: data.labels.length <= 31,
      smooth: false,
      barMaxWidth: 28,
    })),
  };
}

/** A chart with its text alternative: an aria-label summary, a visually hidden table and CSV. */
export function ChartView({ title, data, kind, testId, height }: ChartViewProps) {
  const option = useMemo(() => buildOption(data, kind), [data, kind]);
  const label = useMemo(() => describeChart(title, data), [title, data]);
  const exportCsv = () => downloadText(`${safeFileName(title)}.csv`, chartCsv(data));
  return (
    <div className="chart-view" data-testid={testId}>
      <div className="chart-toolbar">
        <button type="button" className="link-button" onClick={exportCsv} data-testid={`${testId}-csv`}>
          Download CSV
        </button>
      </div>
      <EChart option={option} label={label} height={height ?? (kind === 'hbar' ? Math.max(160, data.labels.length * 30 + 40) : 260)} />
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
              <th scope="row">{key}</th>
              {data.series.map((s) => (
                <td key={s.name} data-value={s.values[index] ?? 0}>
                  {formatValue(s.values[index] ?? 0, data.unit)}
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

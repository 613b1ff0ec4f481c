import { useEffect, useRef } from 'react';
import { init } from './echarts.ts';
import type { EChartsCoreOption, EChartsType } from './echarts.ts';

interface EChartProps {
  option: EChartsCoreOption;
  /** Text alternative: what the chart shows, in one or two sentences. */
  label: string;
  height?: number;
  testId?: string;
  /** Called with the data index of a clicked point or bar and its series. */
  onPick?: (index: number, seriesIndex: number) => void;
  /** The category axis a click anywhere in the plot picks along ('y' for horizontal bars). */
  pickAxis?: 'x' | 'y';
  /** Number of categories, to clamp a click near the plot's edge. */
  pointCount?: number;
}

export function EChart({ option, label, height = 260, testId, onPick, pickAxis = 'x', pointCount = 0 }: EChartProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);
  const pick = useRef(onPick);
  pick.current = onPick;
  const axis = useRef({ pickAxis, pointCount });
  axis.current = { pickAxis, pointCount };

  useEffect(() => {
    const node = element.current;
    if (!node) return;
    const instance = init(node, undefined, { renderer: 'canvas' });
    chart.current = instance;
    // A click on a point picks that point's series; a click anywhere else in the plot picks the
    // bucket under the pointer (first series): small symbols and thin bars are hard to hit.
    let seriesHit = false;
    instance.on('click', (params) => {
      const { dataIndex, seriesIndex, componentType } = params as { dataIndex?: number; seriesIndex?: number; componentType?: string };
      if (componentType !== 'series' || typeof dataIndex !== 'number') return;
      seriesHit = true;
      pick.current?.(dataIndex, seriesIndex ?? 0);
    });
    instance.getZr().on('click', (event) => {
      const point = [event.offsetX, event.offsetY];
      setTimeout(() => {
        if (seriesHit) {
          seriesHit = false;
          return;
        }
        const { pickAxis: along, pointCount: count } = axis.current;
        if (!pick.current || count === 0 || !instance.containPixel({ gridIndex: 0 }, point)) return;
        const value = instance.convertFromPixel({ gridIndex: 0 }, point) as number[] | number;
        const raw = Array.isArray(value) ? value[along === 'x' ? 0 : 1] : value;
        if (typeof raw !== 'number' || Number.isNaN(raw)) return;
        pick.current(Math.min(count - 1, Math.max(0, Math.round(raw))), 0);
      }, 0);
    });
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(node);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return (
    <div
      ref={element}
      className={onPick ? 'echart pickable' : 'echart'}
      style={{ height }}
      role="img"
      aria-label={label}
      tabIndex={0}
      data-testid={testId}
    />
  );
}

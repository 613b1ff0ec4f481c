import { useEffect, useRef } from 'react';
import { init } from './echarts.ts';
import type { EChartsCoreOption, EChartsType } from './echarts.ts';

interface EChartProps {
  option: EChartsCoreOption;
  /** Text alternative: what the chart shows, in one or two sentences. */
  label: string;
  height?: number;
  testId?: string;
  /** Called with the data index of a clicked point or bar. */
  onPick?: (index: number) => void;
}

export function EChart({ option, label, height = 260, testId, onPick }: EChartProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);
  const pick = useRef(onPick);
  pick.current = onPick;

  useEffect(() => {
    const node = element.current;
    if (!node) return;
    const instance = init(node, undefined, { renderer: 'canvas' });
    chart.current = instance;
    instance.on('click', (params) => {
      const index = (params as { dataIndex?: number }).dataIndex;
      if (typeof index === 'number') pick.current?.(index);
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
      className="echart"
      style={{ height }}
      role="img"
      aria-label={label}
      tabIndex={0}
      data-testid={testId}
    />
  );
}

import { useEffect, useRef } from 'react';
import { init } from './echarts.ts';
import type { EChartsCoreOption, EChartsType } from './echarts.ts';

interface EChartProps {
  option: EChartsCoreOption;
  /** Text alternative: what the chart shows, in one or two sentences. */
  label: string;
  height?: number;
  testId?: string;
}

export function EChart({ option, label, height = 260, testId }: EChartProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);

  useEffect(() => {
    const node = element.current;
    if (!node) return;
    const instance = init(node, undefined, { renderer: 'canvas' });
    chart.current = instance;
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

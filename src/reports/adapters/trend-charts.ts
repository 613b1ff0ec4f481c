import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import type { DailyReport } from '../domain/daily-report.ts';
import type { TrendImage } from '../ports.ts';

/**
 * Small 30-day trend charts rendered on the server: ECharts' SSR mode draws SVG without a
 * browser, resvg turns it into PNG because most e-mail clients (Gmail, Outlook) show no SVG.
 */


const WIDTH = 260;
const HEIGHT = 70;

export function renderTrendSvg(points: ReadonlyArray<{ date: string; value: number | null }>, color = '#3b6fd8'): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  try {
    chart.setOption({
      animation: false,
      grid: { left: 2, right: 2, top: 6, bottom: 4 },
      xAxis: { type: 'category', show: false, data: points.map((p) => p.date) },
      yAxis: { type: 'value', show: false, scale: true },
      series: [
        {
          type: 'line',
          data: points.map((p) => p.value),
          showSymbol: false,
          connectNulls: false,
          lineStyle: { width: 2, color },
          areaStyle: { color, opacity: 0.12 },
        },
      ],
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function renderTrendImages(report: DailyReport): TrendImage[] {
  return report.trends.map((trend, index) => {
    const svg = renderTrendSvg(trend.points);
    const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: '#ffffff' }).render().asPng();
    return { metricName: trend.metric_name, cid: `trend-${index}@meterboard`, png: Buffer.from(png), svg };
  });
}

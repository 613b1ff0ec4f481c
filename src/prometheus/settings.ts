import { ConfigError, type Config } from '../config/config.ts';
import type { MetricDefinition } from '../domain/metrics/definition.ts';
import type { PrometheusSettings } from './org-series.ts';

/**
 * The export settings from the config file's `prometheus` section, checked against the catalog
 * at start: a label must be a declared dimension of an existing metric (gauges have none).
 */
export function prometheusSettings(config: Readonly<Pick<Config, 'prometheus'>>, metrics: readonly MetricDefinition[]): PrometheusSettings {
  const byName = new Map(metrics.map((metric) => [metric.name, metric]));
  for (const [name, dimensions] of Object.entries(config.prometheus.labels)) {
    const field = `meterboard.config.json prometheus.labels.${name}`;
    const metric = byName.get(name);
    if (!metric) throw new ConfigError(field, `no metric is named "${name}"`);
    for (const dimension of dimensions) {
      if (!metric.dimensions.includes(dimension)) {
        throw new ConfigError(field, `"${dimension}" is not a dimension of ${name} (declared: ${metric.dimensions.join(', ') || 'none'})`);
      }
    }
  }
  return { labels: config.prometheus.labels, maxSeriesPerOrg: config.prometheus.maxSeriesPerOrg };
}

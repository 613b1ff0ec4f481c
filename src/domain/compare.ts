/**
 * Period-over-period comparison (seed 004's `get_change`): today against 1, 7 and 30 days back,
 * with alert levels at 10 % (warning) and 25 % (critical) change by default. The level says how
 * big a change is; the tone says whether it is good or bad news, from the metric's good direction.
 */

export interface ChangeThresholds {
  /** Absolute change, in percent, from which the level is `warning`. */
  warningPct: number;
  /** Absolute change, in percent, from which the level is `critical`. */
  criticalPct: number;
}

export const DEFAULT_THRESHOLDS: Readonly<ChangeThresholds> = Object.freeze({ warningPct: 10, criticalPct: 25 });

export type ChangeLevel = 'ok' | 'warning' | 'critical';
export type ChangeDirection = 1 | 0 | -1;
/** Which way a metric should move: pages up, errors/latency/cost down, gauges neither. */
export type GoodDirection = 'up' | 'down' | 'neutral';
/** A change read against the good direction: what the table and the report colour by. */
export type ChangeTone = 'good' | 'bad' | 'neutral';

export interface Comparison {
  /** The earlier value; null when there is nothing to compare with. */
  previous: number | null;
  /** current − previous; null without a previous value. */
  change: number | null;
  /** Change relative to |previous|, in percent, one decimal; null when previous is 0 or missing. */
  change_pct: number | null;
  direction: ChangeDirection;
  /**
   * From |change_pct| against the thresholds, whatever the direction. A change from 0 has no
   * percentage and stays `ok`: a relative alert cannot fire on it (absolute rules cover that).
   */
  level: ChangeLevel;
  /** `good` when the metric moved its good way, `bad` the other way, `neutral` otherwise. */
  tone: ChangeTone;
}

export interface ComparePolicy {
  thresholds?: ChangeThresholds | undefined;
  goodDirection?: GoodDirection | undefined;
}

/** Drops float noise such as 0.30000000000000004 without rounding real precision away. */
function tidy(value: number): number {
  return Number(value.toPrecision(12));
}

export function levelFor(changePct: number | null, thresholds: ChangeThresholds = DEFAULT_THRESHOLDS): ChangeLevel {
  if (changePct === null) return 'ok';
  const magnitude = Math.abs(changePct);
  if (magnitude >= thresholds.criticalPct) return 'critical';
  if (magnitude >= thresholds.warningPct) return 'warning';
  return 'ok';
}

export function toneFor(direction: ChangeDirection, goodDirection: GoodDirection = 'neutral'): ChangeTone {
  if (direction === 0 || goodDirection === 'neutral') return 'neutral';
  return (direction === 1) === (goodDirection === 'up') ? 'good' : 'bad';
}

export function noComparison(previous: number | null = null): Comparison {
  return { previous, change: null, change_pct: null, direction: 0, level: 'ok', tone: 'neutral' };
}

export function compareValues(current: number, previous: number | null | undefined, policy: ComparePolicy = {}): Comparison {
  if (previous === null || previous === undefined || !Number.isFinite(previous) || !Number.isFinite(current)) {
    return noComparison(previous ?? null);
  }
  const change = tidy(current - previous);
  const exactPct = previous === 0 ? null : ((current - previous) / Math.abs(previous)) * 100;
  const direction: ChangeDirection = change > 0 ? 1 : change < 0 ? -1 : 0;
  return {
    previous,
    change,
    change_pct: exactPct === null ? null : Math.round(exactPct * 10) / 10,
    direction,
    level: levelFor(exactPct, policy.thresholds ?? DEFAULT_THRESHOLDS),
    tone: toneFor(direction, policy.goodDirection),
  };
}

/** Overrides for one metric, from the config file's `compare.metrics`. */
export interface MetricCompareOverride {
  warningPct?: number | undefined;
  criticalPct?: number | undefined;
  goodDirection?: GoodDirection | undefined;
}

export interface CompareSettings {
  defaults: ChangeThresholds;
  metrics: Readonly<Record<string, MetricCompareOverride>>;
}

export const DEFAULT_COMPARE_SETTINGS: Readonly<CompareSettings> = Object.freeze({ defaults: DEFAULT_THRESHOLDS, metrics: {} });

interface ComparableMetric {
  name: string;
  good_direction?: GoodDirection | undefined;
  warning_pct?: number | undefined;
  critical_pct?: number | undefined;
}

/** A metric's policy: the config's per-name override, else the metric's own fields, else the defaults. */
export function policyFor(metric: ComparableMetric, settings: CompareSettings = DEFAULT_COMPARE_SETTINGS): Required<ComparePolicy> {
  const override = settings.metrics[metric.name] ?? {};
  return {
    goodDirection: override.goodDirection ?? metric.good_direction ?? 'neutral',
    thresholds: {
      warningPct: override.warningPct ?? metric.warning_pct ?? settings.defaults.warningPct,
      criticalPct: override.criticalPct ?? metric.critical_pct ?? settings.defaults.criticalPct,
    },
  };
}

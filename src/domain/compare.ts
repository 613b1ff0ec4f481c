/**
 * Period-over-period comparison (seed 004's `get_change`): today against 1, 7 and 30 days back,
 * with alert levels at 10 % (warning) and 25 % (critical) change by default.
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

export interface Comparison {
  /** The earlier value; null when there is nothing to compare with. */
  previous: number | null;
  /** current − previous; null without a previous value. */
  change: number | null;
  /** Change relative to |previous|, in percent, one decimal; null when previous is 0 or missing. */
  change_pct: number | null;
  direction: ChangeDirection;
  /**
   * From |change_pct| against the thresholds. A change from 0 has no percentage and stays
   * `ok`: a relative alert cannot fire on it (absolute alert rules cover that case).
   */
  level: ChangeLevel;
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

export function compareValues(
  current: number,
  previous: number | null | undefined,
  thresholds: ChangeThresholds = DEFAULT_THRESHOLDS,
): Comparison {
  if (previous === null || previous === undefined || !Number.isFinite(previous) || !Number.isFinite(current)) {
    return { previous: previous ?? null, change: null, change_pct: null, direction: 0, level: 'ok' };
  }
  const change = tidy(current - previous);
  const exactPct = previous === 0 ? null : ((current - previous) / Math.abs(previous)) * 100;
  return {
    previous,
    change,
    change_pct: exactPct === null ? null : Math.round(exactPct * 10) / 10,
    direction: change > 0 ? 1 : change < 0 ? -1 : 0,
    level: levelFor(exactPct, thresholds),
  };
}

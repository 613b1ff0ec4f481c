import type { Attributes } from '../../domain/event.ts';
import { numericValue } from '../../domain/metrics/evaluate.ts';

/** Typed reads of flat event attributes for the endpoints that answer from raw events. */

export function text(attrs: Attributes, key: string): string | null {
  const value = attrs[key];
  if (value === null || value === undefined || value === '') return null;
  return String(value);
}

export function amount(attrs: Attributes, key: string): number {
  return numericValue(attrs[key]) ?? 0;
}

export function optionalAmount(attrs: Attributes, key: string): number | null {
  return numericValue(attrs[key]) ?? null;
}

/** Seed 000 pipeline kinds: api and etl deployments, everything else a workflow run. */
export function activityType(pipelineType: string | null): 'etl' | 'api' | 'workflow' {
  const normalized = pipelineType?.toLowerCase();
  if (normalized === 'etl') return 'etl';
  if (normalized === 'api') return 'api';
  return 'workflow';
}

const COMPLETED = new Set(['completed', 'success', 'succeeded', 'done']);
const FAILED = new Set(['error', 'failed', 'failure', 'stopped']);

export function isCompleted(status: string | null): boolean {
  return status !== null && COMPLETED.has(status.toLowerCase());
}

export function isFailed(status: string | null): boolean {
  return status !== null && FAILED.has(status.toLowerCase());
}

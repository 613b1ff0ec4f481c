import type { Clock } from '../domain/clock.ts';
import type { SourceStateStore } from './ports.ts';
import type { SourceConfig } from './source-config.ts';
import { tablesOf } from './generic-tables.ts';

/** `sources list` and `sources status` (SPEC §7): what is configured, and how each source is doing. */

export interface SourceListing {
  name: string;
  kind: string;
  /** The URL without its password. */
  url: string;
  schema: string | null;
  preset: string | null;
  tables: string[];
  orgs: Record<string, string>;
  every_seconds: number;
  rescan_seconds: number;
  snapshots: Array<{ name: string; every: string }>;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

export function listSources(sources: readonly SourceConfig[]): SourceListing[] {
  return sources.map((source) => ({
    name: source.name,
    kind: source.kind,
    url: redactUrl(source.url),
    schema: source.schema ?? null,
    preset: source.preset ?? null,
    tables: tablesOf(source).map((table) => `${table.key} → ${table.eventType}`),
    orgs: source.org !== undefined ? { '*': source.org } : { ...source.orgs },
    every_seconds: source.every / 1000,
    rescan_seconds: source.rescan / 1000,
    snapshots: source.snapshots.map((snapshot) => ({ name: snapshot.name, every: snapshot.every })),
  }));
}

export interface SourceStatusView {
  name: string;
  configured: boolean;
  healthy: boolean | null;
  last_pull_at: string | null;
  last_success_at: string | null;
  /** Seconds since the last successful pull: how stale this source's numbers may be. */
  lag_seconds: number | null;
  /** Newest source row change read so far. */
  newest_row_change_at: string | null;
  rows_read: number;
  events_accepted: number;
  events_rejected: number;
  rows_skipped: number;
  consecutive_failures: number;
  last_error: string | null;
  last_error_at: string | null;
  last_rejection: string | null;
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Configured sources first (never pulled ones included), then sources only the database remembers. */
export async function sourcesStatus(deps: { sources: readonly SourceConfig[]; state: Pick<SourceStateStore, 'listStatus'>; clock: Clock }): Promise<SourceStatusView[]> {
  const stored = new Map((await deps.state.listStatus()).map((status) => [status.source, status]));
  const now = deps.clock.now();
  const names = [...deps.sources.map((source) => source.name), ...[...stored.keys()].filter((name) => !deps.sources.some((s) => s.name === name))];
  const configured = new Set(deps.sources.map((source) => source.name));
  return names.map((name) => {
    const status = stored.get(name);
    return {
      name,
      configured: configured.has(name),
      healthy: status === undefined ? null : status.consecutiveFailures === 0,
      last_pull_at: isoOrNull(status?.lastPullAt ?? null),
      last_success_at: isoOrNull(status?.lastSuccessAt ?? null),
      lag_seconds: status?.lastSuccessAt == null ? null : Math.max(0, Math.round((now - status.lastSuccessAt) / 1000)),
      newest_row_change_at: status?.newestChangeUs == null ? null : new Date(Math.floor(status.newestChangeUs / 1000)).toISOString(),
      rows_read: status?.rowsRead ?? 0,
      events_accepted: status?.eventsAccepted ?? 0,
      events_rejected: status?.eventsRejected ?? 0,
      rows_skipped: status?.rowsSkipped ?? 0,
      consecutive_failures: status?.consecutiveFailures ?? 0,
      last_error: status?.lastError ?? null,
      last_error_at: isoOrNull(status?.lastErrorAt ?? null),
      last_rejection: status?.lastRejection ?? null,
    };
  });
}

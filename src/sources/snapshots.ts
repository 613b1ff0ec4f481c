import type { PullDeps } from './pull-deps.ts';
import type { SourceConnection } from './ports.ts';
import { SNAPSHOT_PERIODS, type SnapshotConfig, type SourceConfig } from './source-config.ts';

/**
 * Snapshot queries (seed 004): a query's reading becomes a `gauge` event once per period
 * (UTC hour or day). The event id is (source, snapshot, period), so a second run in the same
 * period is a duplicate, whatever it reads.
 */

export function periodStart(now: number, every: SnapshotConfig['every']): number {
  const length = SNAPSHOT_PERIODS[every];
  return Math.floor(now / length) * length;
}

export function snapshotEventId(source: string, snapshot: string, period: number): string {
  const id = `${source}:snapshot:${snapshot}:${period}`;
  return id.length <= 128 ? id : `${source}:snapshot:${snapshot.slice(0, 60)}:${period}`;
}

interface Reading {
  orgId: string;
  value: number;
}

function readingsOf(source: SourceConfig, snapshot: SnapshotConfig, rows: Array<Record<string, unknown>>): Reading[] {
  if (rows.length === 0) throw new Error(`snapshot "${snapshot.name}" returned no row (it must return a value column)`);
  const readings: Reading[] = [];
  for (const row of rows) {
    if (!('value' in row)) throw new Error(`snapshot "${snapshot.name}" must return a column named value`);
    const value = Number(row['value'] ?? 0);
    if (!Number.isFinite(value)) throw new Error(`snapshot "${snapshot.name}" returned a value that is not a number: ${String(row['value'])}`);
    if (source.org !== undefined) {
      readings.push({ orgId: source.org, value });
      continue;
    }
    if (!('org' in row)) throw new Error(`snapshot "${snapshot.name}" must return an org column: the source maps several organizations`);
    const orgId = source.orgs?.[String(row['org'])];
    if (orgId !== undefined) readings.push({ orgId, value });
  }
  return readings;
}

/** Runs the snapshots of a source whose period has not been recorded yet; returns how many ran. */
export async function runDueSnapshots(deps: PullDeps, source: SourceConfig, connection: SourceConnection): Promise<number> {
  let ran = 0;
  for (const snapshot of source.snapshots) {
    const now = deps.clock.now();
    const period = periodStart(now, snapshot.every);
    const last = await deps.state.lastSnapshotPeriod(source.name, snapshot.name);
    if (last !== null && last >= period) continue;
    const readings = readingsOf(source, snapshot, await connection.query(snapshot.sql));
    for (const reading of readings) {
      const event = {
        id: snapshotEventId(source.name, snapshot.name, period),
        type: 'gauge',
        timestamp: new Date(now).toISOString(),
        name: snapshot.name,
        value: reading.value,
        unit: snapshot.unit,
        category: snapshot.category,
        source: source.name,
      };
      const result = await deps.ingest(reading.orgId, [event]);
      const rejection = result.rejected[0]?.errors[0];
      if (rejection !== undefined) throw new Error(`snapshot "${snapshot.name}" was rejected: ${rejection.field} ${rejection.message}`);
    }
    await deps.state.recordSnapshot(source.name, snapshot.name, period, readings[0]?.value ?? 0, now);
    ran += 1;
  }
  return ran;
}

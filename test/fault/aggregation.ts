import { expect } from 'vitest';
import type { DatabaseProbe } from './deployments.ts';
import { ADMIN_HEADERS } from './deployments.ts';
import { pageTotals, sendBatch, type IngestOracle, type IngestTarget } from './oracle.ts';
import type { CliProcess } from './support.ts';

/** What the aggregation fault tests share: a backlog to aggregate, the lease row, the totals check. */

const HOUR = 3_600_000;

/** Sends `events` fresh events in batches of 1,000, each of which must be acked. */
export async function ingestBacklog(target: IngestTarget, oracle: IngestOracle, events: number, batchSize = 1_000): Promise<void> {
  for (let sent = 0; sent < events; sent += batchSize) {
    const batch = oracle.nextBatch(Math.min(batchSize, events - sent));
    await sendBatch(target, batch);
    if (batch.state !== 'acked') throw new Error(`backlog batch not acked: ${batch.failure}`);
  }
}

export interface LeaseRow {
  holder: string;
  expiresAt: number;
}

export async function leaseOf(probe: DatabaseProbe, orgId: string): Promise<LeaseRow | null> {
  const rows = await probe.query<{ holder: string; expires_at: number | string }>('SELECT holder, expires_at FROM leases WHERE name = $1', [`aggregate:${orgId}`]);
  return rows[0] ? { holder: rows[0].holder, expiresAt: Number(rows[0].expires_at) } : null;
}

/** Polls the leases table until the organization's lease is held: a pass is under way. */
export async function untilLeaseHeld(probe: DatabaseProbe, orgId: string, process: CliProcess, deadlineMs = 120_000): Promise<LeaseRow> {
  const started = Date.now();
  for (;;) {
    const lease = await leaseOf(probe, orgId).catch(() => null);
    if (lease !== null) return lease;
    if (process.child.exitCode !== null) throw new Error(`process exited (${process.child.exitCode}) before its pass:\n${process.output()}`);
    if (Date.now() - started > deadlineMs) throw new Error(`no pass held the lease of ${orgId} within ${deadlineMs} ms:\n${process.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface SummaryBody {
  summary: { metric_name: string; total_value: number; total_count: number }[];
}

/**
 * The hour rollups over the oracle's 48 hours (`source=hourly`, whole hours: no raw edge) equal
 * the pages sent and acked, per project and overall. Every batch of the oracle must be acked.
 */
export async function expectRollupsMatch(base: string, orgId: string, oracle: IngestOracle, anchor: number, hours = 48): Promise<void> {
  const events = oracle.acked().flatMap((batch) => batch.events);
  const perProject = pageTotals(events);
  const window = `start=${new Date(anchor - hours * HOUR).toISOString()}&end=${new Date(anchor).toISOString()}&source=hourly&metric=pages_processed`;
  const read = async (project?: string) => {
    const response = await fetch(`${base}/api/v1/orgs/${orgId}/summary?${window}${project ? `&project=${project}` : ''}`, { headers: ADMIN_HEADERS });
    expect(response.status).toBe(200);
    const item = ((await response.json()) as SummaryBody).summary.find((row) => row.metric_name === 'pages_processed');
    return { count: item?.total_count ?? 0, pages: item?.total_value ?? 0 };
  };
  const all = [...perProject.values()].reduce((sum, cell) => ({ count: sum.count + cell.count, pages: sum.pages + cell.pages }), { count: 0, pages: 0 });
  expect(await read()).toEqual(all);
  for (const [project, cell] of perProject) expect(await read(project), `project ${project}`).toEqual(cell);
}

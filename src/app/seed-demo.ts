import { ValidationError } from '../domain/errors.ts';
import type { Organization } from '../domain/organization.ts';
import { aggregateDirtyBuckets, type AggregateResult, type AggregationDeps } from './aggregate.ts';
import { generateDemoBatches } from './demo-events.ts';
import { ingestEvents, type IngestDeps } from './ingest-events.ts';
import { createOrg } from './manage-orgs.ts';

/**
 * Demo data for a newcomer (`npm start` on an empty database, `meterboard seed-demo`):
 * a few organizations in different time zones, each with `days` of realistic traffic,
 * ingested through the same use case as real events and then aggregated, so every screen
 * has numbers at once.
 */

export const DEMO_ORGS: ReadonlyArray<{ id: string; name: string; timezone: string }> = [
  { id: 'acme', name: 'Acme Corp', timezone: 'UTC' },
  { id: 'globex', name: 'Globex Corporation', timezone: 'America/New_York' },
  { id: 'initech', name: 'Initech', timezone: 'Asia/Kolkata' },
  { id: 'umbrella', name: 'Umbrella Health', timezone: 'Europe/Zurich' },
  { id: 'hooli', name: 'Hooli', timezone: 'America/Los_Angeles' },
  { id: 'soylent', name: 'Soylent Foods', timezone: 'Australia/Sydney' },
];

// 180,000 events: enough for every chart to look alive, small enough for `npm start` to seed in seconds.
export const SEED_DEMO_DEFAULTS = { days: 30, orgs: 3, eventsPerDay: 2_000, seed: 1, batchSize: 5_000 } as const;

export interface SeedDemoInput {
  days?: number;
  orgs?: number;
  /** Per organization. */
  eventsPerDay?: number;
  /** End of the generated range (epoch ms); defaults to the context clock. */
  now?: number;
  seed?: number;
  batchSize?: number;
  /** Run one aggregation pass at the end (default true). */
  aggregate?: boolean;
  /** Wraps that pass (the CLI evaluates alert rules after it). */
  aggregatePass?: (pass: () => Promise<AggregateResult>) => Promise<AggregateResult>;
  onProgress?: (progress: { orgId: string; done: number; total: number }) => void;
}

export interface SeededOrg {
  id: string;
  timezone: string;
  created: boolean;
  generated: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface SeedDemoResult {
  orgs: SeededOrg[];
  generated: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  aggregation: AggregateResult | null;
  durationMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The n-th demo organization: the named ones first, then numbered ones cycling their zones. */
export function demoOrg(index: number): { id: string; name: string; timezone: string } {
  const named = DEMO_ORGS[index];
  if (named) return named;
  const zone = DEMO_ORGS[index % DEMO_ORGS.length]!.timezone;
  const n = String(index + 1).padStart(2, '0');
  return { id: `demo-org-${n}`, name: `Demo Org ${n}`, timezone: zone };
}

function checkInput(days: number, orgs: number, eventsPerDay: number, batchSize: number): void {
  const issues = [
    !(days > 0 && days <= 3660) && { field: 'days', message: 'must be a number of days between 1 and 3660' },
    !(Number.isInteger(orgs) && orgs >= 1 && orgs <= 1000) && { field: 'orgs', message: 'must be an integer between 1 and 1000' },
    !(Number.isInteger(eventsPerDay) && eventsPerDay >= 1 && eventsPerDay <= 10_000_000) && {
      field: 'events-per-day',
      message: 'must be an integer between 1 and 10000000',
    },
    !(Number.isInteger(batchSize) && batchSize >= 1) && { field: 'batchSize', message: 'must be a positive integer' },
  ].filter((issue): issue is { field: string; message: string } => Boolean(issue));
  if (issues.length > 0) throw new ValidationError(issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
}

async function ensureOrg(ctx: Parameters<typeof createOrg>[0], wanted: { id: string; name: string; timezone: string }): Promise<{ org: Organization; created: boolean }> {
  const existing = await ctx.orgStore.getOrg(wanted.id);
  if (existing) return { org: existing, created: false };
  return { org: await createOrg(ctx, wanted), created: true };
}

export async function seedDemo(ctx: IngestDeps & AggregationDeps, input: SeedDemoInput = {}): Promise<SeedDemoResult> {
  const started = ctx.clock.now();
  const orgCount = input.orgs ?? SEED_DEMO_DEFAULTS.orgs;
  const eventsPerDay = input.eventsPerDay ?? SEED_DEMO_DEFAULTS.eventsPerDay;
  const batchSize = input.batchSize ?? SEED_DEMO_DEFAULTS.batchSize;
  let days = input.days ?? SEED_DEMO_DEFAULTS.days;
  checkInput(days, orgCount, eventsPerDay, batchSize);
  // Ingest refuses events older than raw retention; keep an hour of slack for a long seed.
  const maxDays = (ctx.config.retention.rawMs - HOUR) / DAY;
  if (days > maxDays) {
    ctx.log.warn({ days, maxDays }, 'seed-demo: range shortened to the raw-event retention');
    days = maxDays;
  }
  const endMs = input.now ?? ctx.clock.now();

  const result: SeedDemoResult = { orgs: [], generated: 0, accepted: 0, duplicates: 0, rejected: 0, aggregation: null, durationMs: 0 };
  for (let i = 0; i < orgCount; i++) {
    const { org, created } = await ensureOrg(ctx, demoOrg(i));
    const seeded: SeededOrg = { id: org.id, timezone: org.timezone, created, generated: 0, accepted: 0, duplicates: 0, rejected: 0 };
    const total = Math.round(days * eventsPerDay);
    const batches = generateDemoBatches({ orgId: org.id, days, eventsPerDay, endMs, timezone: org.timezone, seed: input.seed ?? SEED_DEMO_DEFAULTS.seed }, batchSize);
    for (const events of batches) {
      const outcome = await ingestEvents(ctx, { orgId: org.id, events });
      seeded.generated += events.length;
      seeded.accepted += outcome.accepted;
      seeded.duplicates += outcome.duplicates;
      seeded.rejected += outcome.rejected.length;
      const first = outcome.rejected[0];
      // A rejection here is a generator bug, never silently dropped.
      if (first) ctx.log.warn({ orgId: org.id, rejected: outcome.rejected.length, example: events[first.index], errors: first.errors }, 'seed-demo: events rejected');
      input.onProgress?.({ orgId: org.id, done: seeded.generated, total });
    }
    result.orgs.push(seeded);
    result.generated += seeded.generated;
    result.accepted += seeded.accepted;
    result.duplicates += seeded.duplicates;
    result.rejected += seeded.rejected;
  }
  if (input.aggregate ?? true) {
    const runPass = input.aggregatePass ?? ((pass) => pass());
    result.aggregation = await runPass(() => aggregateDirtyBuckets(ctx));
  }
  result.durationMs = ctx.clock.now() - started;
  ctx.log.info({ orgs: result.orgs.length, accepted: result.accepted, duplicates: result.duplicates, rejected: result.rejected }, 'demo data seeded');
  return result;
}

import { NotFoundError } from '../domain/errors.ts';
import type { FieldIssue } from '../domain/errors.ts';
import { supersedeKeyOf } from '../domain/event.ts';
import type { Attributes, NewEvent } from '../domain/event.ts';
import { BUILT_IN_EVENT_TYPES, ROOT_FIELD, isBuiltInEventType, parseEvent } from '../domain/event-schemas.ts';
import type { ParsedEvent } from '../domain/event-schemas.ts';
import { floorBucket, memoizedHourFloor, nextBucket } from '../domain/time-buckets.ts';
import type { CostEstimator, CountryLookup } from '../ports/enrichment.ts';
import type { AppContext } from './context.ts';

/** Ingest reads the org, enriches, and appends: it never touches rollups. */
export type IngestDeps = Pick<AppContext, 'orgStore' | 'eventAppender' | 'clock' | 'config' | 'costs' | 'countries' | 'telemetry' | 'log' | 'metrics'>;

/**
 * Stands in a batch for an item that could not even be decoded (an NDJSON line that is not
 * JSON), so it is reported as a rejection at its own index like any other invalid event.
 */
export class UnparseableEvent {
  constructor(readonly message: string) {}
}

export interface IngestInput {
  orgId: string;
  events: readonly unknown[];
}

export interface IngestRejection {
  index: number;
  errors: FieldIssue[];
}

/** Something about an accepted event worth telling the sender (e.g. a type no metric reads). */
export interface IngestWarning {
  index: number;
  field: string;
  message: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: IngestRejection[];
  /** Present only when there is at least one. */
  warnings?: IngestWarning[];
}

/** A type that is neither built in nor read by a configured metric: stored, but counted by nothing. */
function unknownTypeWarning(ctx: Pick<AppContext, 'metrics'>, type: string, index: number): IngestWarning | null {
  if (isBuiltInEventType(type) || ctx.metrics.some((metric) => metric.event === type)) return null;
  return {
    index,
    field: 'type',
    message: `unknown event type "${type}": stored, but no metric reads it (built-in types: ${BUILT_IN_EVENT_TYPES.join(', ')}; add a custom metric to count it)`,
  };
}

function numberAttr(attrs: Attributes, key: string): number | undefined {
  const value = attrs[key];
  return typeof value === 'number' ? value : undefined;
}

function stringAttr(attrs: Attributes, key: string): string | undefined {
  const value = attrs[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** llm_call: total_tokens and cost_usd when absent; cost_source says where the cost came from. */
function deriveLlmCall(attrs: Attributes, ts: number, costs: CostEstimator): void {
  const input = numberAttr(attrs, 'input_tokens');
  const output = numberAttr(attrs, 'output_tokens');
  const tokensKnown = input !== undefined || output !== undefined;
  if (numberAttr(attrs, 'total_tokens') === undefined && tokensKnown) attrs['total_tokens'] = (input ?? 0) + (output ?? 0);

  if (numberAttr(attrs, 'cost_usd') !== undefined) {
    attrs['cost_source'] = 'provided';
    return;
  }
  const model = stringAttr(attrs, 'model');
  const cost =
    model !== undefined && tokensKnown
      ? costs.estimate({ model, provider: stringAttr(attrs, 'provider'), inputTokens: input ?? 0, outputTokens: output ?? 0, at: ts })
      : null;
  if (cost === null) {
    attrs['cost_source'] = 'unknown';
  } else {
    attrs['cost_usd'] = cost;
    attrs['cost_source'] = 'computed';
  }
}

function deriveApiRequest(attrs: Attributes, countries: CountryLookup): void {
  if (stringAttr(attrs, 'country') !== undefined) return;
  const ip = stringAttr(attrs, 'ip');
  if (ip === undefined) return;
  const country = countries.countryOf(ip);
  if (country !== null) attrs['country'] = country;
}

/**
 * Applies the derivations of SPEC §2 and fixes the id and supersede key. The derivations are
 * written into `parsed.attrs` itself (parseEvent hands out a fresh object per event, and a copy
 * per event is measurable garbage at ingest rates).
 */
export function toNewEvent(parsed: ParsedEvent, ctx: Pick<AppContext, 'costs' | 'countries'>): NewEvent {
  const attrs = parsed.attrs;
  if (parsed.type === 'llm_call') deriveLlmCall(attrs, parsed.ts, ctx.costs);
  else if (parsed.type === 'api_request') deriveApiRequest(attrs, ctx.countries);
  return {
    id: parsed.id ?? crypto.randomUUID(),
    type: parsed.type,
    ts: parsed.ts,
    project: parsed.project,
    tag: parsed.tag,
    attrs,
    supersedeKey: supersedeKeyOf(parsed.type, attrs),
  };
}

/** A day partly past raw retention is never rebuilt, so its events could not be counted: start at the next day. */
function oldestAggregatableInstant(retentionEdge: number, timeZone: string): number {
  const dayStart = floorBucket(retentionEdge, 'day', timeZone);
  return dayStart === retentionEdge ? dayStart : nextBucket(dayStart, 'day', timeZone);
}

/**
 * Validates a batch, stores every valid event (even when others are rejected) idempotently on
 * `(org, id)`, and reports each rejected item by its index. The storage call is durable
 * before this resolves, so an accepted event survives a crash right after the response.
 */
export async function ingestEvents(ctx: IngestDeps, input: IngestInput): Promise<IngestResult> {
  const org = await ctx.orgStore.getOrg(input.orgId);
  if (!org) throw new NotFoundError(`organization "${input.orgId}" not found`);
  const now = ctx.clock.now();
  const limits = {
    now,
    maxFutureSkewMs: ctx.config.limits.maxFutureSkewMs,
    maxAgeMs: ctx.config.retention.rawMs,
    oldestAcceptedMs: oldestAggregatableInstant(now - ctx.config.retention.rawMs, org.timezone),
  };

  const rejected: IngestRejection[] = [];
  const warnings: IngestWarning[] = [];
  const valid: NewEvent[] = [];
  const seenIds = new Set<string>();
  let duplicatesInBatch = 0;
  input.events.forEach((raw, index) => {
    if (raw instanceof UnparseableEvent) {
      rejected.push({ index, errors: [{ field: ROOT_FIELD, message: raw.message }] });
      return;
    }
    const parsed = parseEvent(raw, limits);
    if (!parsed.ok) {
      rejected.push({ index, errors: parsed.errors });
      return;
    }
    const warning = unknownTypeWarning(ctx, parsed.event.type, index);
    if (warning !== null) warnings.push(warning);
    const event = toNewEvent(parsed.event, ctx);
    // A repeated id inside one batch is a duplicate of its first occurrence; settling it here
    // keeps the result independent of how a storage adapter treats conflicts within one statement.
    if (seenIds.has(event.id)) {
      duplicatesInBatch += 1;
      return;
    }
    seenIds.add(event.id);
    valid.push(event);
  });

  let accepted = 0;
  if (valid.length > 0) {
    const hourOf = memoizedHourFloor(org.timezone);
    const result = await ctx.eventAppender.insertEvents(org.id, valid, hourOf, now);
    for (const inserted of result.inserted) if (inserted) accepted += 1;
  }
  const duplicates = valid.length - accepted + duplicatesInBatch;
  ctx.telemetry.eventsIngested(org.id, accepted, duplicates, rejected.length);
  if (rejected.length > 0) ctx.log.debug({ orgId: org.id, rejected: rejected.length }, 'events rejected');
  return warnings.length > 0 ? { accepted, duplicates, rejected, warnings } : { accepted, duplicates, rejected };
}

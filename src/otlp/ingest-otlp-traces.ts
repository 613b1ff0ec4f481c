import { ingestEvents } from '../app/ingest-events.ts';
import type { CostEstimator } from '../ports/enrichment.ts';
import { isUnreadable } from './otlp-spans.ts';
import type { FlattenedSpan, OtlpSpan } from './otlp-spans.ts';
import { isLlmSpan, isRootSpan, llmCallEvent, traceEvent } from './span-events.ts';
import type { RawEvent, TraceUsage } from './span-events.ts';

/**
 * OTLP spans → events through the shared ingest use case, so validation, enrichment (cost from
 * the price table, total_tokens), idempotency and dirty marks are the same as for pushed events.
 * A trace's tokens and cost add up the LLM spans exported in the same request as its root span
 * (the batch span processor exports a trace's spans together once the root has ended).
 */

type IngestContext = Parameters<typeof ingestEvents>[0];

export interface OtlpIngestResult {
  /** Spans that produced no stored or duplicate event (each is named in errorMessage). */
  rejectedSpans: number;
  errorMessage: string;
  accepted: number;
  duplicates: number;
}

const MAX_REASONS = 5;

function finiteNonNegative(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

/** Tokens and cost of each trace from the llm_call events built for it in this request. */
function usageByTrace(llmEvents: readonly RawEvent[], costs: CostEstimator): Map<string, TraceUsage> {
  const usage = new Map<string, TraceUsage>();
  for (const event of llmEvents) {
    const traceId = String(event['trace_id']);
    const entry = usage.get(traceId) ?? { tokens: 0, costUsd: null };
    const input = finiteNonNegative(event['input_tokens']) ?? 0;
    const output = finiteNonNegative(event['output_tokens']) ?? 0;
    entry.tokens += input + output;
    let cost = finiteNonNegative(event['cost_usd']);
    if (cost === null && typeof event['model'] === 'string' && input + output > 0) {
      const provider = typeof event['provider'] === 'string' ? event['provider'] : undefined;
      cost = costs.estimate({ model: event['model'], provider, inputTokens: input, outputTokens: output, at: Date.parse(String(event['timestamp'])) });
    }
    if (cost !== null) entry.costUsd = (entry.costUsd ?? 0) + cost;
    usage.set(traceId, entry);
  }
  return usage;
}

function spanLabel(span: OtlpSpan): string {
  return `span ${span.spanId}${span.name ? ` ("${span.name}")` : ''}`;
}

export async function ingestOtlpTraces(ctx: IngestContext, input: { orgId: string; spans: readonly FlattenedSpan[] }): Promise<OtlpIngestResult> {
  const reasons: string[] = [];
  const rejectedSpans = new Set<number>();
  const events: RawEvent[] = [];
  const spanOfEvent: number[] = [];
  const llmEvents: RawEvent[] = [];
  const roots: { span: OtlpSpan; index: number }[] = [];

  input.spans.forEach((span, index) => {
    if (isUnreadable(span)) {
      rejectedSpans.add(index);
      reasons.push(span.problem);
      return;
    }
    if (isLlmSpan(span)) {
      const event = llmCallEvent(span);
      events.push(event);
      spanOfEvent.push(index);
      llmEvents.push(event);
    }
    if (isRootSpan(span)) roots.push({ span, index });
  });

  const usage = usageByTrace(llmEvents, ctx.costs);
  for (const { span, index } of roots) {
    events.push(traceEvent(span, usage.get(span.traceId)));
    spanOfEvent.push(index);
  }

  const result = events.length > 0 ? await ingestEvents(ctx, { orgId: input.orgId, events }) : { accepted: 0, duplicates: 0, rejected: [] };
  for (const rejection of result.rejected) {
    const spanIndex = spanOfEvent[rejection.index]!;
    const span = input.spans[spanIndex] as OtlpSpan;
    const type = String(events[rejection.index]!['type']);
    if (!rejectedSpans.has(spanIndex)) rejectedSpans.add(spanIndex);
    reasons.push(`${spanLabel(span)} as ${type}: ${rejection.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
  }

  let errorMessage = '';
  if (rejectedSpans.size > 0) {
    const shown = reasons.slice(0, MAX_REASONS).join(' | ');
    const more = reasons.length > MAX_REASONS ? ` | and ${reasons.length - MAX_REASONS} more` : '';
    errorMessage = `${rejectedSpans.size} of ${input.spans.length} spans rejected: ${shown}${more}`;
  }
  return { rejectedSpans: rejectedSpans.size, errorMessage, accepted: result.accepted, duplicates: result.duplicates };
}

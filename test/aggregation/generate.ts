import type { SentEvent } from './oracle.ts';

/**
 * Random events as a client would send them. Every value that is summed is an integer or a
 * multiple of 1/64, so sums are exact whatever order an engine adds them in, and the oracle
 * can demand equality. Timestamps are distinct (ms resolution), so "latest" is never a tie.
 */

export interface GenerateOptions {
  random: () => number;
  idPrefix: string;
  from: number;
  to: number;
  count: number;
  /** Extra events packed into these [from, to) windows (DST nights, local midnights). */
  hotspots?: Array<{ from: number; to: number; count: number }>;
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

export function generateEvents(options: GenerateOptions): SentEvent[] {
  const { random } = options;
  const used = new Set<number>();
  let serial = 0;
  const uniqueTs = (from: number, to: number): number => {
    for (;;) {
      const ts = from + Math.floor(random() * (to - from));
      if (!used.has(ts)) {
        used.add(ts);
        return ts;
      }
    }
  };
  const envelope = (type: string, ts: number): SentEvent => {
    const event: SentEvent = { id: `${options.idPrefix}-${serial++}`, type, timestamp: new Date(ts).toISOString() };
    if (random() < 0.3) event['project'] = 'alpha';
    if (random() < 0.25) event['tag'] = 'eu';
    return event;
  };

  const events: SentEvent[] = [];
  const one = (ts: number): void => {
    const kind = random();
    if (kind < 0.25) {
      const event = envelope('llm_call', ts);
      Object.assign(event, {
        model: pick(random, ['gpt-4o', 'claude-3-5-sonnet', 'mistral-large']),
        usage_type: pick(random, ['llm', 'llm', 'llm', 'embedding']),
        reason: pick(random, ['extraction', 'challenge', 'summarize']),
        input_tokens: int(random, 0, 4000),
        output_tokens: int(random, 0, 800),
        cost_usd: int(random, 0, 640) / 64,
        latency_ms: int(random, 1, 9000),
        status: pick(random, ['success', 'error']),
        workflow_id: pick(random, ['wf-1', 'wf-2', 'wf-3']),
        user_id: pick(random, ['u1', 'u2', 'u3', 'u4']),
      });
      if (random() < 0.7) event['provider'] = pick(random, ['openai', 'anthropic']);
      if (random() < 0.2) event['total_tokens'] = int(random, 0, 5000);
      events.push(event);
    } else if (kind < 0.37) {
      events.push(Object.assign(envelope('page_usage', ts), { pages: int(random, 0, 40), failed_pages: int(random, 0, 3) }));
    } else if (kind < 0.47) {
      // One file's executions: up to three statuses over up to two days; only the latest counts.
      const execution = `exec-${options.idPrefix}-${serial}`;
      const steps = int(random, 1, 3);
      let at = ts;
      for (let i = 0; i < steps && at < options.to; i += 1) {
        events.push(
          Object.assign(envelope('file_execution', at), {
            execution_id: execution,
            file_name: pick(random, ['a.pdf', 'b.pdf']),
            status: pick(random, ['COMPLETED', 'ERROR', 'EXECUTING', 'COMPLETED']),
            pages: int(random, 1, 9),
          }),
        );
        at = uniqueTs(at + 1, Math.min(options.to, at + 2 * 86_400_000));
      }
    } else if (kind < 0.55) {
      events.push(
        Object.assign(envelope('workflow_execution', ts), {
          workflow_id: pick(random, ['wf-1', 'wf-2']),
          pipeline_type: pick(random, ['api', 'etl', 'task', 'workflow']),
          status: 'COMPLETED',
          duration_ms: int(random, 10, 90_000),
        }),
      );
    } else if (kind < 0.75) {
      const event = Object.assign(envelope('api_request', ts), {
        endpoint: pick(random, ['/v1/extract', '/v1/chat']),
        method: 'POST',
        status_code: pick(random, [200, 200, 200, 201, 404, 500]),
        latency_ms: int(random, 1, 5000),
        cost_usd: int(random, 0, 64) / 64,
      });
      if (random() < 0.8) (event as SentEvent)['country'] = pick(random, ['CH', 'IN', 'US']);
      if (random() < 0.5) (event as SentEvent)['model'] = pick(random, ['gpt-4o', 'claude-3-5-sonnet']);
      events.push(event);
    } else if (kind < 0.87) {
      events.push(
        Object.assign(envelope('trace', ts), {
          operation_type: pick(random, ['rag', 'agent', 'chat']),
          duration_ms: int(random, 5, 20_000),
          tokens: int(random, 0, 3000),
          cost_usd: int(random, 0, 128) / 64,
          user_id: pick(random, ['u1', 'u2', 'u3']),
        }),
      );
    } else if (kind < 0.92) {
      events.push(Object.assign(envelope('hitl_review', ts), { state: pick(random, ['created', 'approved', 'rejected']) }));
    } else if (kind < 0.96) {
      events.push(Object.assign(envelope('chat_message', ts), { kb_id: pick(random, ['kb1', 'kb2']), response_time_ms: int(random, 50, 8000) }));
    } else {
      events.push(Object.assign(envelope('gauge', ts), { name: pick(random, ['total_users', 'active_kbs']), value: int(random, 0, 500) }));
    }
  };

  for (let i = 0; i < options.count; i += 1) one(uniqueTs(options.from, options.to));
  for (const hot of options.hotspots ?? []) for (let i = 0; i < hot.count; i += 1) one(uniqueTs(hot.from, hot.to));
  return events;
}

/**
 * Splits events into arrival chunks: mostly in time order, with some arriving chunks late,
 * some sent twice in a later chunk, and every chunk shuffled (out of order within a request).
 */
export function arrivalChunks(events: readonly SentEvent[], chunks: number, random: () => number): SentEvent[][] {
  const byTime = [...events].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  const result: SentEvent[][] = Array.from({ length: chunks }, () => []);
  byTime.forEach((event, index) => {
    let chunk = Math.floor((index / byTime.length) * chunks);
    if (random() < 0.15) chunk = int(random, chunk, chunks - 1);
    result[chunk]!.push(event);
    if (random() < 0.05) result[int(random, chunk, chunks - 1)]!.push(event);
  });
  for (const chunk of result) {
    for (let i = chunk.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [chunk[i], chunk[j]] = [chunk[j]!, chunk[i]!];
    }
  }
  return result;
}

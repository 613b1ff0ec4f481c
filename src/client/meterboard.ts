import { events, toWireEvent } from './events.ts';
import type {
  AnyEvent, ApiRequestFields, ChatMessageFields, DocumentEventFields, FileExecutionFields, GaugeFields, HitlReviewFields,
  LlmCallFields, PageUsageFields, TraceFields, WireEvent, WorkflowExecutionFields,
} from './events.ts';
import { DEFAULT_RETRY_POLICY, isRetryableStatus, parseRetryAfter, retryDelayMs } from './retry-policy.ts';
import type { RetryPolicy } from './retry-policy.ts';

/**
 * The meterboard client: queues events in memory, sends them in batches to
 * `POST /api/v1/events`, retries with jittered backoff when the server is unreachable,
 * rate-limits (429) or is unavailable (503), and never throws into the caller's code path.
 * Event ids are generated when an event is tracked, so a batch sent twice is stored once.
 */

export type DropReason =
  /** The in-memory queue was full when the event was tracked. */
  | 'queue_full'
  /** The server rejected the event (validation); `errors` says why. */
  | 'rejected'
  /** Every attempt failed with a network error, 429 or 5xx. */
  | 'retries_exhausted'
  /** The server refused the batch for good (401, 403, 413, another 4xx). */
  | 'refused';

export interface DropReport {
  reason: DropReason;
  count: number;
  /** What the server or the network said. */
  message: string;
  events: readonly WireEvent[];
}

export interface MeterboardOptions {
  /** Base URL of the meterboard server, e.g. `http://localhost:3000`. */
  url: string;
  /** An ingest key (`mb_ingest_…`). */
  apiKey: string;
  /** Events per request (≤ 10,000). Default 500. */
  batchSize?: number;
  /** A partial batch is sent after this long. Default 2,000 ms. */
  flushIntervalMs?: number;
  /** Events held in memory at most; further events are dropped and reported. Default 10,000. */
  maxQueueSize?: number;
  /** Per-request timeout. Default 10,000 ms. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Send what is queued when the process is about to exit (`beforeExit`). Default true. */
  flushOnExit?: boolean;
  /** Defaults for events that do not set them. */
  project?: string;
  tag?: string;
  /** Called for every group of events that will never be stored. */
  onDrop?: (report: DropReport) => void;
  /** Called for each failed attempt that will be retried (for logging). */
  onRetry?: (info: { attempt: number; delayMs: number; message: string }) => void;
  /** Injected for tests or other runtimes; defaults to the global fetch. */
  fetch?: typeof fetch;
  random?: () => number;
}

export interface MeterboardStats {
  /** Events waiting in memory. */
  queued: number;
  /** Events in the batch being sent. */
  inFlight: number;
  /** Events the server confirmed (accepted or already stored). */
  sent: number;
  /** Events that will never be stored, by reason. */
  dropped: Record<DropReason, number>;
  /** Requests made, retries included. */
  requests: number;
  retries: number;
}

interface IngestAnswer {
  accepted?: number;
  duplicates?: number;
  rejected?: { index: number; errors: { field: string; message: string }[] }[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Meterboard {
  readonly #endpoint: string;
  readonly #apiKey: string;
  readonly #batchSize: number;
  readonly #maxQueueSize: number;
  readonly #timeoutMs: number;
  readonly #policy: RetryPolicy;
  readonly #options: MeterboardOptions;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;
  #queue: WireEvent[] = [];
  #inFlight = 0;
  #pump: Promise<void> | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  readonly #onBeforeExit = () => {
    if (this.#queue.length > 0) void this.flush();
  };
  readonly #stats: MeterboardStats = {
    queued: 0, inFlight: 0, sent: 0, requests: 0, retries: 0,
    dropped: { queue_full: 0, rejected: 0, retries_exhausted: 0, refused: 0 },
  };

  constructor(options: MeterboardOptions) {
    if (!options.url) throw new TypeError('Meterboard: url is required, e.g. http://localhost:3000');
    if (!options.apiKey) throw new TypeError('Meterboard: apiKey (an ingest key) is required');
    this.#options = options;
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/api/v1/events`;
    this.#apiKey = options.apiKey;
    this.#batchSize = Math.max(1, Math.min(10_000, options.batchSize ?? 500));
    this.#maxQueueSize = Math.max(1, options.maxQueueSize ?? 10_000);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#random = options.random ?? Math.random;
    const interval = options.flushIntervalMs ?? 2_000;
    this.#timer = setInterval(() => this.#kick(true), interval);
    // The timer must not keep a finished program alive; beforeExit sends what is left.
    this.#timer.unref?.();
    if ((options.flushOnExit ?? true) && typeof process !== 'undefined' && typeof process.on === 'function') {
      process.on('beforeExit', this.#onBeforeExit);
    }
  }

  /** Queues one event (any type). Never throws and never waits: a full queue drops and reports. */
  track(event: AnyEvent): void {
    if (this.#closed) {
      this.#drop('refused', 'the client is closed', [toWireEvent(event)]);
      return;
    }
    const wire = toWireEvent(event);
    if (wire.project === undefined && this.#options.project !== undefined) wire.project = this.#options.project;
    if (wire.tag === undefined && this.#options.tag !== undefined) wire.tag = this.#options.tag;
    if (this.#queue.length >= this.#maxQueueSize) {
      this.#drop('queue_full', `the queue holds ${this.#maxQueueSize} events already (is meterboard reachable?)`, [wire]);
      return;
    }
    this.#queue.push(wire);
    if (this.#queue.length >= this.#batchSize) this.#kick(false);
  }

  llmCall(fields: LlmCallFields): void { this.track({ ...fields, type: 'llm_call' }); }
  pageUsage(fields: PageUsageFields): void { this.track({ ...fields, type: 'page_usage' }); }
  workflowExecution(fields: WorkflowExecutionFields): void { this.track({ ...fields, type: 'workflow_execution' }); }
  fileExecution(fields: FileExecutionFields): void { this.track({ ...fields, type: 'file_execution' }); }
  hitlReview(fields: HitlReviewFields): void { this.track({ ...fields, type: 'hitl_review' }); }
  apiRequest(fields: ApiRequestFields): void { this.track({ ...fields, type: 'api_request' }); }
  trace(fields: TraceFields): void { this.track({ ...fields, type: 'trace' }); }
  documentEvent(fields: DocumentEventFields): void { this.track({ ...fields, type: 'document_event' }); }
  chatMessage(fields: ChatMessageFields): void { this.track({ ...fields, type: 'chat_message' }); }
  gauge(fields: GaugeFields): void { this.track({ ...fields, type: 'gauge' }); }

  /** Sends everything queued now; resolves when each event is stored or reported as dropped. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#pump) {
      this.#kick(true);
      await this.#pump;
    }
  }

  /** Stops the timer, sends what is queued, and detaches from the process. Later events are dropped. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (typeof process !== 'undefined' && typeof process.off === 'function') process.off('beforeExit', this.#onBeforeExit);
    await this.flush();
    this.#closed = true;
  }

  stats(): MeterboardStats {
    return { ...this.#stats, queued: this.#queue.length, inFlight: this.#inFlight, dropped: { ...this.#stats.dropped } };
  }

  /** Starts the sending loop unless it runs; `all` sends partial batches too. */
  #kick(all: boolean): void {
    if (this.#pump || this.#queue.length === 0) return;
    if (!all && this.#queue.length < this.#batchSize) return;
    this.#pump = this.#sendQueued(all).finally(() => {
      this.#pump = null;
      // Events tracked while the last batch was out may already fill another one.
      if (this.#queue.length >= this.#batchSize) this.#kick(false);
    });
  }

  async #sendQueued(all: boolean): Promise<void> {
    while (this.#queue.length >= this.#batchSize || (all && this.#queue.length > 0)) {
      const batch = this.#queue.splice(0, this.#batchSize);
      this.#inFlight = batch.length;
      try {
        await this.#sendWithRetry(batch);
      } finally {
        this.#inFlight = 0;
      }
    }
  }

  async #sendWithRetry(batch: WireEvent[]): Promise<void> {
    const body = JSON.stringify({ events: batch });
    for (let attempt = 0; ; attempt += 1) {
      let retryAfterMs: number | null = null;
      let problem: string;
      try {
        this.#stats.requests += 1;
        const response = await this.#fetch(this.#endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#apiKey}` },
          body,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        const text = await response.text();
        if (response.ok) {
          this.#settle(batch, text);
          return;
        }
        problem = `HTTP ${response.status}: ${text.slice(0, 300)}`;
        if (!isRetryableStatus(response.status)) {
          this.#drop('refused', problem, batch);
          return;
        }
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
      } catch (error) {
        problem = error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error);
      }
      if (attempt + 1 >= this.#policy.maxAttempts) {
        this.#drop('retries_exhausted', `${this.#policy.maxAttempts} attempts failed; last: ${problem}`, batch);
        return;
      }
      const delayMs = retryDelayMs(this.#policy, attempt, retryAfterMs, this.#random);
      this.#stats.retries += 1;
      this.#safely(() => this.#options.onRetry?.({ attempt: attempt + 1, delayMs, message: problem }));
      await sleep(delayMs);
    }
  }

  #settle(batch: WireEvent[], text: string): void {
    let answer: IngestAnswer = {};
    try {
      answer = JSON.parse(text) as IngestAnswer;
    } catch {
      // A 2xx without the ingest answer (a proxy?) still means the server took the batch.
    }
    const rejected = answer.rejected ?? [];
    this.#stats.sent += batch.length - rejected.length;
    if (rejected.length > 0) {
      const message = rejected
        .slice(0, 5)
        .map((r) => `#${r.index}: ${r.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`)
        .join(' | ');
      this.#drop('rejected', message, rejected.map((r) => batch[r.index]).filter((e): e is WireEvent => e !== undefined));
    }
  }

  #drop(reason: DropReason, message: string, dropped: WireEvent[]): void {
    this.#stats.dropped[reason] += dropped.length;
    this.#safely(() => this.#options.onDrop?.({ reason, count: dropped.length, message, events: dropped }));
  }

  /** A throwing callback of the host application must not break the client's loop. */
  #safely(callback: () => void): void {
    try {
      callback();
    } catch {
      // deliberately ignored: the callback belongs to the host application
    }
  }
}

export { events };

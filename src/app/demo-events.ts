/**
 * Deterministic demo data: realistic raw events (the JSON a client would POST) of every
 * built-in type, spread over [endMs - days, endMs) with a diurnal and weekly rhythm in the
 * organization's time zone. Same options and seed → same events, byte for byte. A generator,
 * so a million events never sit in memory at once.
 */

export type RawDemoEvent = { id: string; type: string; timestamp: string; project: string; tag: string } & Record<
  string,
  string | number | boolean | null
>;

export interface DemoEventOptions {
  orgId: string;
  days: number;
  eventsPerDay: number;
  /** Exclusive end of the range (epoch ms); events fall in [endMs - days·24h, endMs). */
  endMs: number;
  timezone: string;
  seed?: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** mulberry32: tiny, fast, and good enough for demo data. */
class Rng {
  private state: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int = (n: number): number => Math.floor(this.next() * n);
  chance = (p: number): boolean => this.next() < p;
  pick = <T>(items: readonly T[]): T => items[this.int(items.length)]!;
  weighted<T>(table: Weighted<T>): T {
    const r = this.next() * table.total;
    const { cumulative, items } = table;
    for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return items[i]!;
    return items[items.length - 1]!;
  }
  normal(): number {
    if (this.spare !== null) {
      const value = this.spare;
      this.spare = null;
      return value;
    }
    const u = 1 - this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * this.next();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
  /** Log-normal with the given median; sigma ≈ spread (0.5 ≈ p95 at 2.3× the median). */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
}

interface Weighted<T> { items: T[]; cumulative: number[]; total: number }
function weighted<T>(entries: ReadonlyArray<readonly [T, number]>): Weighted<T> {
  let total = 0;
  const cumulative = entries.map(([, w]) => (total += w));
  return { items: entries.map(([item]) => item), cumulative, total };
}

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Flat attributes; the demo omits what a sender would not know rather than sending null. */
type Attrs = Record<string, string | number | boolean>;

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

const round = (value: number, digits: number) => Number(value.toFixed(digits));

// ---- catalog of the demo world -------------------------------------------------------------

interface Model { model: string; provider: string; inPerM: number; outPerM: number; latencyMs: number }
const CHAT_MODELS = weighted<Model>([
  [{ model: 'gpt-4o-mini', provider: 'openai', inPerM: 0.15, outPerM: 0.6, latencyMs: 1100 }, 34],
  [{ model: 'gpt-4o', provider: 'openai', inPerM: 2.5, outPerM: 10, latencyMs: 2400 }, 22],
  [{ model: 'claude-sonnet-4', provider: 'anthropic', inPerM: 3, outPerM: 15, latencyMs: 3200 }, 17],
  [{ model: 'gemini-2.0-flash', provider: 'google', inPerM: 0.1, outPerM: 0.4, latencyMs: 800 }, 15],
  [{ model: 'claude-3-5-haiku', provider: 'anthropic', inPerM: 0.8, outPerM: 4, latencyMs: 1300 }, 8],
  // Self-hosted: not in the price table, so its cost stays unknown.
  [{ model: 'llama-3.1-70b-instruct', provider: 'self-hosted', inPerM: 0, outPerM: 0, latencyMs: 1900 }, 4],
]);
const EMBEDDING: Model = { model: 'text-embedding-3-small', provider: 'openai', inPerM: 0.02, outPerM: 0, latencyMs: 140 };

interface Workflow { id: string; name: string; pipeline: 'api' | 'etl' | 'task' | 'workflow'; project: string; file: string }
const WORKFLOWS = weighted<Workflow>([
  [{ id: 'wf-invoice-extraction', name: 'Invoice extraction', pipeline: 'api', project: 'invoices', file: 'invoice' }, 30],
  [{ id: 'wf-purchase-orders', name: 'Purchase orders ETL', pipeline: 'etl', project: 'invoices', file: 'po' }, 18],
  [{ id: 'wf-contract-review', name: 'Contract review', pipeline: 'workflow', project: 'contracts', file: 'contract' }, 16],
  [{ id: 'wf-kyc-documents', name: 'KYC documents', pipeline: 'api', project: 'default', file: 'passport-scan' }, 14],
  [{ id: 'wf-insurance-claims', name: 'Insurance claims', pipeline: 'etl', project: 'default', file: 'claim' }, 12],
  [{ id: 'wf-resume-parser', name: 'Resume parser', pipeline: 'task', project: 'default', file: 'resume' }, 10],
]);

interface Endpoint { path: string; method: string; llm: boolean; latencyMs: number }
const ENDPOINTS = weighted<Endpoint>([
  [{ path: '/v1/chat/completions', method: 'POST', llm: true, latencyMs: 1400 }, 34],
  [{ path: '/v1/extract', method: 'POST', llm: true, latencyMs: 2600 }, 20],
  [{ path: '/v1/embeddings', method: 'POST', llm: false, latencyMs: 120 }, 12],
  [{ path: '/v1/documents', method: 'GET', llm: false, latencyMs: 45 }, 14],
  [{ path: '/v1/documents', method: 'POST', llm: false, latencyMs: 320 }, 8],
  [{ path: '/v1/workflows/run', method: 'POST', llm: false, latencyMs: 210 }, 7],
  [{ path: '/v1/usage', method: 'GET', llm: false, latencyMs: 60 }, 5],
]);
const ERROR_STATUS = weighted<number>([[400, 38], [401, 12], [403, 6], [404, 14], [422, 8], [429, 12], [500, 6], [502, 2], [503, 2]]);
const COUNTRIES = weighted<string>([
  ['US', 30], ['IN', 12], ['DE', 9], ['GB', 8], ['BR', 6], ['FR', 5], ['JP', 5], ['ID', 5], ['CA', 4], ['CH', 3], ['NL', 3], ['NG', 2],
]);
/** Addresses the bundled geo database resolves, sent without `country` so ingest derives it. */
const IPS = ['8.8.8.8', '81.2.69.160', '78.46.0.1', '49.36.0.1', '200.160.2.3', '133.242.0.1', '62.210.16.6', '193.0.6.139', '2a00:1450:4001::1'];
const TAGS = weighted<string>([['production', 75], ['staging', 10], ['', 15]]);
const KBS = ['kb-handbook', 'kb-product-docs', 'kb-legal', 'kb-support'];
const TRACE_OPS = weighted<string>([['rag_query', 40], ['agent_run', 25], ['document_ingest', 20], ['classification', 15]]);
const GAUGES = [
  ['total_users', 'users'], ['active_users_24h', 'users'], ['active_users_7d', 'users'],
  ['new_users_24h', 'users'], ['total_documents', 'content'],
] as const;

const INPUT_TOKENS_MEDIAN: Record<string, number> = { extraction: 4200, challenge: 5200, summarize: 6500, chat: 1400, indexing: 900 };

type Scenario = 'api' | 'pipeline' | 'chat' | 'trace' | 'document';
const SCENARIOS = weighted<Scenario>([['api', 34], ['pipeline', 7], ['chat', 8], ['trace', 3], ['document', 3]]);

// ---- time slots ----------------------------------------------------------------------------

interface Slot { start: number; end: number; count: number; gauges: boolean; incident: boolean }

function localClock(timezone: string): (ts: number) => { hour: number; weekday: number } {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', weekday: 'short', hour: 'numeric', minute: 'numeric' });
  const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return (ts) => {
    let hour = 0, minute = 0, weekday = 0;
    for (const part of format.formatToParts(ts)) {
      if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
      else if (part.type === 'weekday') weekday = weekdays.indexOf(part.value);
    }
    return { hour: hour + minute / 60, weekday };
  };
}

/** Business-hours bump around 13:30 local over a quiet night; weekends at a third. */
function activity(localHour: number, weekday: number): number {
  const business = Math.exp(-((localHour - 13.5) ** 2) / (2 * 3.2 ** 2));
  const weekend = weekday === 0 || weekday === 6 ? 0.33 : 1;
  return (0.12 + business) * weekend;
}

/** One slot per hour of the range; counts add up to exactly `days × eventsPerDay`. */
function planSlots(options: DemoEventOptions, rng: Rng): Slot[] {
  const { days, eventsPerDay, endMs, timezone } = options;
  const startMs = endMs - Math.round(days * DAY);
  const total = Math.round(days * eventsPerDay);
  const clock = localClock(timezone);
  const slots: Slot[] = [];
  const weights: number[] = [];
  for (let start = startMs; start < endMs; start += HOUR) {
    const end = Math.min(start + HOUR, endMs);
    const { hour, weekday } = clock((start + end) / 2);
    const growth = 1 + (0.3 * (start - startMs)) / Math.max(endMs - startMs, 1);
    weights.push(((end - start) / HOUR) * activity(hour, weekday) * growth * (0.85 + 0.3 * rng.next()));
    const gaugeHour = clock(start).hour < 1;
    slots.push({ start, end, count: 0, gauges: gaugeHour, incident: rng.chance(0.012) });
  }
  // Gauges are readings, not traffic: hourly when cheap, else daily, else none.
  const hourlyGauges = slots.length * GAUGES.length;
  const dailyGauges = slots.filter((s) => s.gauges).length * GAUGES.length;
  let gaugeTotal = 0;
  if (hourlyGauges <= total * 0.02) {
    for (const slot of slots) slot.gauges = true;
    gaugeTotal = hourlyGauges;
  } else if (dailyGauges <= total * 0.1) {
    gaugeTotal = dailyGauges;
  } else {
    for (const slot of slots) slot.gauges = false;
  }
  const traffic = total - gaugeTotal;
  const weightSum = weights.reduce((a, b) => a + b, 0) || 1;
  let cumulative = 0;
  let assigned = 0;
  slots.forEach((slot, i) => {
    cumulative += weights[i]!;
    const upTo = Math.round((cumulative / weightSum) * traffic);
    slot.count = upTo - assigned + (slot.gauges ? GAUGES.length : 0);
    assigned = upTo;
  });
  return slots;
}

export function* generateDemoEvents(options: DemoEventOptions): Generator<RawDemoEvent> {
  yield* new DemoWorld(options).events();
}

/** Yields arrays of up to `size` events, for batch ingest. */
export function* generateDemoBatches(options: DemoEventOptions, size: number): Generator<RawDemoEvent[]> {
  let batch: RawDemoEvent[] = [];
  for (const event of generateDemoEvents(options)) {
    batch.push(event);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

// ---- the world: one organization's users, workflows and traffic ----------------------------

class DemoWorld {
  private readonly rng: Rng;
  private readonly idPrefix: string;
  private sequence = 0;
  private readonly users: number;
  private readonly baseUsers: number;
  private buffer: RawDemoEvent[] = [];
  private slot!: Slot;
  /** One tag per scenario: a pipeline run's events share it. */
  private tag = '';

  constructor(private readonly options: DemoEventOptions) {
    const seed = (options.seed ?? 1) >>> 0;
    this.rng = new Rng(hashString(`${options.orgId}\u0000${seed}`));
    this.idPrefix = `demo-${seed.toString(36)}-${Math.floor(options.endMs / 60_000).toString(36)}-`;
    this.baseUsers = 120 + this.rng.int(900);
    this.users = Math.max(8, Math.round(this.baseUsers / 10));
  }

  *events(): Generator<RawDemoEvent> {
    for (const slot of planSlots(this.options, this.rng)) {
      this.slot = slot;
      let left = slot.count;
      if (slot.gauges) {
        this.buffer = [];
        this.gauges();
        left -= this.buffer.length;
        yield* this.buffer;
      }
      while (left > 0) {
        this.buffer = [];
        this.scenario(this.rng.weighted(SCENARIOS));
        for (let i = 0; i < this.buffer.length && left > 0; i++, left--) yield this.buffer[i]!;
      }
    }
  }

  private emit(type: string, ts: number, project: string, attrs: Attrs): void {
    const clamped = Math.floor(Math.min(ts, this.options.endMs - 1));
    const id = this.idPrefix + (this.sequence++).toString(36);
    this.buffer.push(Object.assign({ id, type, timestamp: this.iso(clamped), project, tag: this.tag }, attrs));
  }

  private isoHour = NaN;
  private isoPrefix = '';
  /** toISOString, but ~10× faster: the `YYYY-MM-DDTHH:` prefix is reused within an hour. */
  private iso(ts: number): string {
    const hour = Math.floor(ts / HOUR);
    if (hour !== this.isoHour) {
      this.isoHour = hour;
      this.isoPrefix = new Date(hour * HOUR).toISOString().slice(0, 14);
    }
    const within = ts - hour * HOUR;
    const ms = within % 1000;
    const seconds = Math.floor(within / 1000);
    return `${this.isoPrefix}${PAD2[Math.floor(seconds / 60)]}:${PAD2[seconds % 60]}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  }

  private user(): string {
    // Skewed: a few heavy users, a long tail.
    return `user-${String(1 + Math.floor(this.users * this.rng.next() ** 2.2)).padStart(3, '0')}`;
  }

  private hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.rng.int(0x100000000).toString(16).padStart(8, '0');
    return out.slice(0, length);
  }

  private start(): number {
    return this.slot.start + Math.floor(this.rng.next() * (this.slot.end - this.slot.start));
  }

  private scenario(kind: Scenario): void {
    this.tag = this.rng.weighted(TAGS);
    if (kind === 'api') this.apiRequest(this.start());
    else if (kind === 'pipeline') this.pipeline(this.start());
    else if (kind === 'chat') this.chat(this.start());
    else if (kind === 'trace') this.trace(this.start(), this.rng.weighted(TRACE_OPS), this.user());
    else this.documentLifecycle(this.start());
  }

  private gauges(): void {
    const t = this.slot.start + 60_000;
    this.tag = '';
    const elapsedDays = (t - (this.options.endMs - this.options.days * DAY)) / DAY;
    const total = Math.round(this.baseUsers * (1 + 0.004 * elapsedDays));
    const active24 = Math.round(total * (0.18 + 0.06 * this.rng.next()));
    const values: Record<string, number> = {
      total_users: total,
      active_users_24h: active24,
      active_users_7d: Math.round(Math.max(active24, total * (0.45 + 0.05 * this.rng.next()))),
      new_users_24h: Math.round(this.baseUsers * 0.004 * (0.5 + this.rng.next())),
      total_documents: Math.round(this.baseUsers * 40 * (1 + 0.01 * elapsedDays)),
    };
    for (const [name, category] of GAUGES) this.emit('gauge', t, 'default', { name, value: values[name]!, category });
  }

  private llmCall(ts: number, model: Model, reason: string, project: string, context: Attrs): number {
    const embedding = model === EMBEDDING;
    const inputMedian = INPUT_TOKENS_MEDIAN[reason] ?? 2000;
    const input = Math.max(16, Math.round(this.rng.logNormal(inputMedian, 0.55)));
    const failed = this.rng.chance(this.slot.incident ? 0.12 : 0.015);
    const output = embedding || failed ? 0 : Math.max(1, Math.round(this.rng.logNormal(reason === 'extraction' ? 650 : 280, 0.6)));
    const latency = Math.round(this.rng.logNormal(model.latencyMs * (1 + output / 1500), 0.45));
    const attrs: Attrs = {
      model: model.model, provider: model.provider, usage_type: embedding ? 'embedding' : 'llm', reason,
      input_tokens: input, output_tokens: output, latency_ms: latency, status: failed ? 'error' : 'success', ...context,
    };
    // A third of the callers leave the cost out; ingest prices it from the bundled table.
    if (model.provider !== 'self-hosted' && this.rng.chance(0.68)) {
      attrs['cost_usd'] = round((input * model.inPerM + output * model.outPerM) / 1e6, 8);
    }
    this.emit('llm_call', ts, project, attrs);
    return latency;
  }

  private pipeline(t0: number): void {
    const workflow = this.rng.weighted(WORKFLOWS);
    const executionId = `exec-${this.hex(12)}`;
    const user = this.user();
    // API deployments and pipelines carry their own id and name, as Unstract's tables do; plain workflow runs do not.
    const deployment: Attrs = workflow.pipeline === 'workflow' ? {} : { deployment_id: `dep-${workflow.id.slice(3)}`, deployment_name: `${workflow.name} (${workflow.pipeline.toUpperCase()})` };
    const context: Attrs = { workflow_id: workflow.id, workflow_name: workflow.name, execution_id: executionId, user_id: user, ...deployment };
    const files = 1 + (this.rng.chance(0.35) ? this.rng.int(4) : 0);
    let t = t0;
    let failedFiles = 0;
    for (let f = 0; f < files; f++) {
      const fileName = `${workflow.file}-${10000 + this.rng.int(90000)}.pdf`;
      const pages = 1 + Math.floor(this.rng.logNormal(3, 0.9));
      const failedPages = this.rng.chance(0.07) ? 1 + this.rng.int(Math.max(1, Math.floor(pages / 3))) : 0;
      const fileStart = t;
      // Links each LLM call and page count to its file, as Unstract's usage rows carry the file execution's run_id.
      const fileExecutionId = `${executionId}-f${f}`;
      const fileContext = { ...context, file_execution_id: fileExecutionId };
      t += this.llmCall(t + 500, this.rng.weighted(CHAT_MODELS), 'extraction', workflow.project, fileContext);
      if (this.rng.chance(0.3)) t += this.llmCall(t + 200, this.rng.weighted(CHAT_MODELS), 'challenge', workflow.project, fileContext);
      if (this.rng.chance(0.2)) t += this.llmCall(t + 200, this.rng.weighted(CHAT_MODELS), 'summarize', workflow.project, fileContext);
      if (this.rng.chance(0.5)) t += this.llmCall(t + 100, EMBEDDING, 'indexing', workflow.project, fileContext);
      this.emit('page_usage', t, workflow.project, { pages, failed_pages: failedPages, file_name: fileName, execution_id: executionId, file_execution_id: fileExecutionId });
      const errored = this.rng.chance(this.slot.incident ? 0.25 : 0.05);
      const file = { execution_id: executionId, file_execution_id: fileExecutionId, file_name: fileName, pages, duration_ms: t - fileStart + 400 };
      if (errored) {
        this.emit('file_execution', t + 400, workflow.project, { ...file, status: 'ERROR' });
        // Most failures are retried and succeed: the later COMPLETED supersedes the ERROR.
        const retryAt = t + 400 + 30_000 + this.rng.int(15 * 60_000);
        if (this.rng.chance(0.7) && retryAt < this.options.endMs) {
          this.emit('file_execution', retryAt, workflow.project, { ...file, status: 'COMPLETED', duration_ms: file.duration_ms + 2000 });
        } else failedFiles++;
      } else {
        this.emit('file_execution', t + 400, workflow.project, { ...file, status: 'COMPLETED' });
      }
      if (this.rng.chance(0.1)) {
        const reviewId = `rev-${this.hex(10)}`;
        this.emit('hitl_review', t + 600, workflow.project, { review_id: reviewId, state: 'created', execution_id: executionId });
        if (this.rng.chance(0.75)) {
          this.emit('hitl_review', t + 600 + this.rng.int(40 * 60_000), workflow.project, { review_id: reviewId, state: 'approved', execution_id: executionId, user_id: user });
        }
      }
      t += 500;
    }
    const status = failedFiles === files ? 'ERROR' : 'COMPLETED';
    this.emit('workflow_execution', t + 200, workflow.project, { ...context, pipeline_type: workflow.pipeline, status, duration_ms: t + 200 - t0 });
  }

  private apiRequest(ts: number): void {
    const endpoint = this.rng.weighted(ENDPOINTS);
    const errorRate = this.slot.incident ? 0.14 : 0.035;
    const status = this.rng.chance(errorRate) ? this.rng.weighted(ERROR_STATUS) : endpoint.method === 'POST' && !endpoint.llm ? 201 : 200;
    const model = endpoint.llm ? this.rng.weighted(CHAT_MODELS) : endpoint.path === '/v1/embeddings' ? EMBEDDING : null;
    const latency = Math.round(this.rng.logNormal(status >= 400 && status < 500 ? 25 : endpoint.latencyMs, 0.5));
    const where: Attrs = this.rng.chance(0.2) ? { ip: this.rng.pick(IPS) } : { country: this.rng.weighted(COUNTRIES) };
    const tokens = model ? this.rng.logNormal(1500, 0.6) : 0;
    const cost = model && status < 400 ? round((tokens * (model.inPerM + model.outPerM / 4)) / 1e6, 8) : 0;
    const attrs: Attrs = { endpoint: endpoint.path, method: endpoint.method, status_code: status, latency_ms: latency, cost_usd: cost, user_id: this.user(), ...where };
    if (model) attrs['model'] = model.model;
    this.emit('api_request', ts, this.rng.chance(0.8) ? 'default' : 'mobile-app', attrs);
  }

  private chat(t0: number): void {
    const kb = this.rng.pick(KBS);
    const user = this.user();
    const latency = this.llmCall(t0 + 300, this.rng.weighted(CHAT_MODELS), 'chat', 'support-bot', { user_id: user });
    this.emit('chat_message', t0 + latency + 400, 'support-bot', { kb_id: kb, response_time_ms: latency + 400, user_id: user });
    this.trace(t0, 'chat', user, kb);
  }

  private trace(t0: number, operation: string, user: string, kb: string = this.rng.pick(KBS)): void {
    const failed = this.rng.chance(this.slot.incident ? 0.1 : 0.02);
    const tokens = Math.round(this.rng.logNormal(2200, 0.6));
    const duration = Math.round(this.rng.logNormal(operation === 'agent_run' ? 6000 : 1800, 0.55));
    this.emit('trace', t0, operation === 'chat' ? 'support-bot' : 'default', {
      trace_id: this.hex(32), operation_type: operation, status: failed ? 'error' : 'ok', duration_ms: duration,
      tokens, cost_usd: round(tokens * 1.2e-6, 8), user_id: user, kb_id: kb,
    });
  }

  private documentLifecycle(t0: number): void {
    const documentId = `doc-${this.hex(10)}`;
    const project = this.rng.weighted(WORKFLOWS).project;
    let t = t0;
    for (const step of ['uploaded', 'parsed', 'indexed'] as const) {
      const duration = Math.round(this.rng.logNormal(step === 'uploaded' ? 180 : step === 'parsed' ? 2400 : 900, 0.5));
      t += duration;
      this.emit('document_event', t, project, { document_id: documentId, event_type: step, duration_ms: duration });
      if (step === 'parsed' && this.rng.chance(0.04)) {
        this.emit('document_event', t + 50, project, { document_id: documentId, event_type: 'failed', duration_ms: 0 });
        return;
      }
    }
    if (this.rng.chance(0.05)) this.emit('document_event', t + this.rng.int(30 * 60_000), project, { document_id: documentId, event_type: 'deleted', duration_ms: 30 });
  }
}

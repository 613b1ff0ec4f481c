import { FAULT_ADMIN_KEY, type CliProcess } from './support.ts';

/**
 * What a fault test sent, and what the server said about it: the independent record every
 * fault test checks the database and the rollups against after the fault.
 *
 * A batch is `acked` when the server answered 200 with every event counted (accepted or
 * duplicate): those events must be stored, once. A batch whose request failed (connection
 * reset by a kill, refused, 503) is `unknown`: the server may or may not have committed it,
 * but a batch is one transaction, so it must be stored whole or not at all.
 */

export interface FaultEvent {
  id: string;
  type: 'page_usage';
  timestamp: string;
  pages: number;
  project: string;
}

export interface SentBatch {
  events: FaultEvent[];
  state: 'pending' | 'acked' | 'unknown';
  /** The failure of an unknown batch (status or network error), for messages. */
  failure?: string;
}

export class IngestOracle {
  readonly batches: SentBatch[] = [];
  private serial = 0;

  constructor(
    private readonly prefix: string,
    /** Events are spread over the hours before this instant (all in the past, all valid). */
    private readonly now: number,
    private readonly hours = 48,
  ) {}

  nextBatch(size: number): SentBatch {
    const events: FaultEvent[] = [];
    for (let i = 0; i < size; i += 1) {
      this.serial += 1;
      const n = this.serial;
      // Deterministic spread: many hours dirty at once, so an aggregation pass has real work.
      const offsetMs = ((n * 7919) % (this.hours * 3_600_000 - 120_000)) + 60_000;
      events.push({
        id: `${this.prefix}-${n}`,
        type: 'page_usage',
        timestamp: new Date(this.now - offsetMs).toISOString(),
        pages: (n % 9) + 1,
        project: n % 3 === 0 ? 'alpha' : 'beta',
      });
    }
    const batch: SentBatch = { events, state: 'pending' };
    this.batches.push(batch);
    return batch;
  }

  acked(): SentBatch[] {
    return this.batches.filter((batch) => batch.state === 'acked');
  }

  unknown(): SentBatch[] {
    return this.batches.filter((batch) => batch.state === 'unknown');
  }
}

export interface IngestTarget {
  base: string;
  /** The organization, posted with an admin key as `?org=`. */
  orgId: string;
}

export function postEvents(target: IngestTarget, events: readonly FaultEvent[]): Promise<Response> {
  return fetch(`${target.base}/api/v1/events?org=${encodeURIComponent(target.orgId)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${FAULT_ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
}

/** Posts each batch again, in order, and returns the counts the server answered. */
export async function resendAll(target: IngestTarget, batches: readonly SentBatch[]): Promise<{ accepted: number; duplicates: number }[]> {
  const answers: { accepted: number; duplicates: number }[] = [];
  for (const batch of batches) {
    const response = await postEvents(target, batch.events);
    const body = (await response.json()) as { accepted: number; duplicates: number };
    answers.push({ accepted: body.accepted, duplicates: body.duplicates });
  }
  return answers;
}

/** One POST of a batch; records the outcome on the batch. */
export async function sendBatch(target: IngestTarget, batch: SentBatch): Promise<void> {
  try {
    const response = await postEvents(target, batch.events);
    const text = await response.text();
    if (response.status !== 200) {
      batch.state = 'unknown';
      batch.failure = `${response.status} ${text.slice(0, 200)}`;
      return;
    }
    const body = JSON.parse(text) as { accepted: number; duplicates: number; rejected: unknown[] };
    if (body.rejected.length > 0 || body.accepted !== batch.events.length) {
      // A first send of fresh ids must be accepted whole; anything else is a finding of its own.
      throw new Error(`first send of a batch answered ${text.slice(0, 300)}`);
    }
    batch.state = 'acked';
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('first send')) throw error;
    batch.state = 'unknown';
    batch.failure = String((error as { cause?: unknown }).cause ?? error);
  }
}

/**
 * `senders` loops posting fresh batches as fast as the server answers, until `stop()`.
 * `pause()` lets the loops finish their request in flight and wait (while a process is down).
 */
export class IngestLoad {
  private running = true;
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private loops: Promise<void>[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly oracle: IngestOracle,
    private target: IngestTarget,
    private readonly batchSize: number,
    senders: number,
  ) {
    for (let i = 0; i < senders; i += 1) this.loops.push(this.loop());
  }

  retarget(target: IngestTarget): void {
    this.target = target;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      if (this.paused) {
        await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
        continue;
      }
      const batch = this.oracle.nextBatch(this.batchSize);
      this.inFlight += 1;
      try {
        await sendBatch(this.target, batch);
      } finally {
        this.inFlight -= 1;
        if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      }
      // A refused connection or 503 answers at once: do not spin on it.
      if (batch.state === 'unknown') await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Resolves once no request is in flight and no new one will start until `resume()`. */
  async pause(): Promise<void> {
    this.paused = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  resume(): void {
    this.paused = false;
    for (const wake of this.resumeWaiters.splice(0)) wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.resume();
    await Promise.all(this.loops);
  }
}

/** Waits until `count` more batches are acked than now (the server is really taking load). */
export async function untilAcked(oracle: IngestOracle, more: number, process: CliProcess, deadlineMs = 120_000): Promise<void> {
  const target = oracle.acked().length + more;
  const started = Date.now();
  while (oracle.acked().length < target) {
    if (process.child.exitCode !== null) throw new Error(`server exited (${process.child.exitCode}) under ingest:\n${process.output()}`);
    if (Date.now() - started > deadlineMs) throw new Error(`only ${oracle.acked().length} of ${target} batches acked after ${deadlineMs} ms:\n${process.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sum of pages and event count per project, the totals every rollup check compares with. */
export function pageTotals(events: readonly FaultEvent[]): Map<string, { count: number; pages: number }> {
  const totals = new Map<string, { count: number; pages: number }>();
  for (const event of events) {
    const cell = totals.get(event.project) ?? { count: 0, pages: 0 };
    cell.count += 1;
    cell.pages += event.pages;
    totals.set(event.project, cell);
  }
  return totals;
}

/**
 * Resends a batch until the server counts every event of it (accepted or duplicate), then marks
 * it acked: after an outage, the batches whose answer was lost are settled this way. Returns
 * how many of its events were already stored (duplicates).
 */
export async function settleBatch(target: IngestTarget, batch: SentBatch, deadlineMs = 60_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const response = await postEvents(target, batch.events).catch(() => null);
    if (response?.status === 200) {
      const body = (await response.json()) as { accepted: number; duplicates: number };
      if (body.accepted + body.duplicates !== batch.events.length) throw new Error(`resend counted ${JSON.stringify(body)} of ${batch.events.length}`);
      batch.state = 'acked';
      return body.duplicates;
    }
    if (Date.now() - started > deadlineMs) throw new Error(`batch not settled within ${deadlineMs} ms (last status ${response?.status})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

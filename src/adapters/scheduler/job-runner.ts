import type { Logger } from '../../ports/logger.ts';

/**
 * Runs one named job at a time. A timer tick that finds the job busy is skipped (the next
 * tick catches up, since passes are incremental); an explicit `runNow` waits for the runs in
 * progress or queued and then starts its own, so its caller sees work done after its request.
 * Waiting callers with the same payload share one follow-up run.
 */
export class SerialJobRunner {
  private current: Promise<unknown> | null = null;
  /** Follow-up runs not started yet, by payload. */
  private readonly queued = new Map<string, Promise<unknown>>();
  /** The last run started or queued: the next follow-up starts after it. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly handler: (payload?: unknown) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  get busy(): boolean {
    return this.current !== null || this.queued.size > 0;
  }

  /** Timer entry point: skips while busy; failures are logged here because no caller awaits them. */
  async tick(payload?: unknown): Promise<void> {
    if (this.busy) {
      this.log.debug({ job: this.name }, 'job still running, tick skipped');
      return;
    }
    try {
      await this.start(payload);
    } catch (error) {
      this.log.error({ job: this.name, err: error }, 'scheduled job failed');
    }
  }

  /** Runs once more after any run in progress or queued; concurrent callers with the same payload share that run. */
  runNow(payload?: unknown): Promise<unknown> {
    if (!this.busy) return this.start(payload);
    const key = JSON.stringify(payload ?? null);
    const waiting = this.queued.get(key);
    if (waiting) return waiting;
    const run = this.tail.catch(() => undefined).then(() => {
      this.queued.delete(key);
      return this.start(payload);
    });
    this.queued.set(key, run);
    this.tail = run;
    return run;
  }

  /** Resolves when no run is in progress or queued. */
  async idle(): Promise<void> {
    while (this.busy) await this.tail.catch(() => undefined);
  }

  private start(payload: unknown): Promise<unknown> {
    const run = Promise.resolve().then(() => this.handler(payload));
    this.current = run;
    // A queued follow-up is already the tail (it settles after this run); a direct run becomes it.
    if (this.queued.size === 0) this.tail = run;
    // Registered before any caller's continuation, so `busy` is false once a caller resumes.
    const clear = () => {
      if (this.current === run) this.current = null;
    };
    run.then(clear, clear);
    return run;
  }
}

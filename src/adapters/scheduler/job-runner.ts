import type { Logger } from '../../ports/logger.ts';

/**
 * Runs one named job at a time. A timer tick that finds the job busy is skipped (the next
 * tick catches up, since passes are incremental); an explicit `runNow` waits for the run in
 * progress and then starts its own, so its caller sees work done after its request.
 */
export class SerialJobRunner {
  private current: Promise<unknown> | null = null;
  private queued: Promise<unknown> | null = null;

  constructor(
    private readonly name: string,
    private readonly handler: () => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  get busy(): boolean {
    return this.current !== null;
  }

  /** Timer entry point: skips while busy; failures are logged here because no caller awaits them. */
  async tick(): Promise<void> {
    if (this.current !== null) {
      this.log.debug({ job: this.name }, 'job still running, tick skipped');
      return;
    }
    try {
      await this.start();
    } catch (error) {
      this.log.error({ job: this.name, err: error }, 'scheduled job failed');
    }
  }

  /** Runs once more after any run in progress; concurrent callers share that one follow-up run. */
  runNow(): Promise<unknown> {
    if (this.current === null) return this.start();
    if (this.queued === null) {
      const after = this.current.catch(() => undefined);
      this.queued = after.then(() => {
        this.queued = null;
        return this.start();
      });
    }
    return this.queued;
  }

  /** Resolves when no run is in progress or queued. */
  async idle(): Promise<void> {
    while (this.current !== null || this.queued !== null) {
      await (this.queued ?? this.current)?.catch(() => undefined);
    }
  }

  private start(): Promise<unknown> {
    const run = Promise.resolve().then(() => this.handler());
    this.current = run;
    // Registered before any caller's continuation, so `busy` is false once a caller resumes.
    const clear = () => {
      if (this.current === run) this.current = null;
    };
    run.then(clear, clear);
    return run;
  }
}

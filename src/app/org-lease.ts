import { UnavailableError } from '../domain/errors.ts';
import type { AppContext } from './context.ts';

export const AGGREGATION_LEASE_TTL_MS = 5 * 60_000;
/** Renew well before expiry; a pass that cannot renew stops before its next write. */
const RENEW_AFTER_MS = 60_000;
const POLL_MS = 200;

/**
 * How a holder waits for a lease: a monotonic "now" for the wait deadline and a sleep between
 * polls. Separate from the AppContext clock (which dates the lease itself and may be fixed in
 * tests), so tests can inject both and never sleep on real time.
 */
export interface LeaseWaiter {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTimeWaiter: LeaseWaiter = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class LeaseLostError extends Error {
  constructor(name: string) {
    super(`lease "${name}" was lost (another worker took over after it expired); work stopped before writing`);
    this.name = 'LeaseLostError';
  }
}

/**
 * The per-organization aggregation lease (`aggregate:<org>`): no two workers rewrite one
 * organization's rollups at once. It expires on its own when a holder dies, so the dirty
 * marks that holder did not clear are picked up by the next pass.
 */
export class OrgLease {
  readonly name: string;
  private renewedAt = 0;

  constructor(
    private readonly ctx: Pick<AppContext, 'leaseStore' | 'clock'>,
    orgId: string,
    readonly holder: string = crypto.randomUUID(),
    private readonly ttlMs = AGGREGATION_LEASE_TTL_MS,
    private readonly waiter: LeaseWaiter = realTimeWaiter,
  ) {
    this.name = `aggregate:${orgId}`;
  }

  /** True when taken; with `waitMs > 0` polls until then while another holder has it. */
  async acquire(waitMs = 0): Promise<boolean> {
    const deadline = this.waiter.now() + waitMs;
    for (;;) {
      const now = this.ctx.clock.now();
      if (await this.ctx.leaseStore.tryAcquireLease(this.name, this.holder, this.ttlMs, now)) {
        this.renewedAt = now;
        return true;
      }
      if (this.waiter.now() >= deadline) return false;
      await this.waiter.sleep(POLL_MS);
    }
  }

  async acquireOrThrow(waitMs: number): Promise<void> {
    if (!(await this.acquire(waitMs))) {
      throw new UnavailableError(`organization is being aggregated by another worker (lease "${this.name}"); try again later`);
    }
  }

  /** Renews when due; throws LeaseLostError when another holder has taken it. */
  async keepAlive(): Promise<void> {
    const now = this.ctx.clock.now();
    if (now - this.renewedAt < RENEW_AFTER_MS && now >= this.renewedAt) return;
    if (!(await this.ctx.leaseStore.tryAcquireLease(this.name, this.holder, this.ttlMs, now))) throw new LeaseLostError(this.name);
    this.renewedAt = now;
  }

  async release(): Promise<void> {
    await this.ctx.leaseStore.releaseLease(this.name, this.holder);
  }
}

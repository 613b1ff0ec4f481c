import { UnavailableError } from '../domain/errors.ts';
import type { LeaseStore } from '../ports/storage.ts';
import type { AppContext } from './context.ts';
import { processLeaseHolder } from './lease-holder.ts';

/**
 * Short on purpose: a holder that dies (kill -9, power loss) blocks its organization for at
 * most this long. A live holder renews it by heartbeat long before it runs out.
 */
export const AGGREGATION_LEASE_TTL_MS = 30_000;
/** Heartbeat period: three renewals per TTL, so one slow or failed renewal does not lose it. */
export const LEASE_HEARTBEAT_MS = AGGREGATION_LEASE_TTL_MS / 3;
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
 * Lease names held in this process, per holder id. The database cannot tell apart two passes
 * with the same holder id (it lets both in), and every lease store of a process shares the
 * process's holder id, so the exclusion is keyed by holder, not by store object.
 */
const heldInProcess = new Map<string, Set<string>>();

function heldNames(holder: string): Set<string> {
  let names = heldInProcess.get(holder);
  if (!names) {
    names = new Set();
    heldInProcess.set(holder, names);
  }
  return names;
}

export interface OrgLeaseOptions {
  /** Defaults to this process's identity (lease-holder.ts). */
  holder?: string;
  ttlMs?: number;
  heartbeatMs?: number;
  /** How the acquire loop waits between polls (tests inject one that never sleeps on real time). */
  waiter?: LeaseWaiter;
}

/**
 * The per-organization aggregation lease (`aggregate:<org>`): no two workers rewrite one
 * organization's rollups at once. While held, a heartbeat renews it; when the holder dies it
 * expires within AGGREGATION_LEASE_TTL_MS, and the dirty marks it did not clear are picked up
 * by the next pass. A process restarted with the same identity takes it back at once.
 */
export class OrgLease {
  readonly name: string;
  readonly holder: string;
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly store: LeaseStore;
  private readonly waiter: LeaseWaiter;
  private renewedAt = 0;
  private lost = false;
  private held = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** The heartbeat's renewal in flight, so release waits for it instead of racing it. */
  private renewal: Promise<void> | null = null;

  constructor(
    private readonly ctx: Pick<AppContext, 'leaseStore' | 'clock' | 'log'>,
    orgId: string,
    options: OrgLeaseOptions | string = {},
  ) {
    const opts = typeof options === 'string' ? { holder: options } : options;
    this.name = `aggregate:${orgId}`;
    this.holder = opts.holder ?? processLeaseHolder();
    this.ttlMs = opts.ttlMs ?? AGGREGATION_LEASE_TTL_MS;
    this.heartbeatMs = opts.heartbeatMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    this.store = ctx.leaseStore;
    this.waiter = opts.waiter ?? realTimeWaiter;
  }

  /** True when taken; with `waitMs > 0` polls until then while another holder has it. */
  async acquire(waitMs = 0): Promise<boolean> {
    const deadline = this.waiter.now() + waitMs;
    const local = heldNames(this.holder);
    for (;;) {
      if (!local.has(this.name)) {
        // Claimed locally before the database round trip, so a concurrent pass here waits.
        local.add(this.name);
        const now = this.ctx.clock.now();
        let taken = false;
        try {
          taken = await this.store.tryAcquireLease(this.name, this.holder, this.ttlMs, now);
        } finally {
          if (!taken) local.delete(this.name);
        }
        if (taken) {
          this.renewedAt = now;
          this.held = true;
          this.lost = false;
          this.startHeartbeat();
          return true;
        }
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

  /** Renews when due; throws LeaseLostError when another holder has taken it. Call before each write. */
  async keepAlive(): Promise<void> {
    if (this.lost) throw new LeaseLostError(this.name);
    const now = this.ctx.clock.now();
    if (now - this.renewedAt < this.heartbeatMs && now >= this.renewedAt) return;
    await this.renew(now);
    if (this.lost) throw new LeaseLostError(this.name);
  }

  async release(): Promise<void> {
    this.stopHeartbeat();
    if (!this.held) return;
    this.held = false;
    // A renewal already sent would otherwise land after the delete and re-create the lease,
    // leaving the organization blocked for a whole TTL after a clean release.
    await this.renewal?.catch(() => undefined);
    heldNames(this.holder).delete(this.name);
    if (!this.lost) await this.store.releaseLease(this.name, this.holder);
  }

  private async renew(now: number): Promise<void> {
    if (await this.store.tryAcquireLease(this.name, this.holder, this.ttlMs, now)) this.renewedAt = now;
    else this.lost = true;
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const timer = setInterval(() => {
      if (this.lost || !this.held) return;
      if (this.renewal !== null) return;
      // A failed renewal (database away) is retried next beat; writes check `lost` first.
      this.renewal = this.renew(this.ctx.clock.now())
        .catch((error: unknown) => this.ctx.log.warn({ err: error, lease: this.name }, 'lease heartbeat failed'))
        .finally(() => {
          this.renewal = null;
        });
    }, this.heartbeatMs);
    timer.unref?.();
    this.heartbeat = timer;
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

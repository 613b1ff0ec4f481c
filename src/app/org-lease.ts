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

export class LeaseLostError extends Error {
  constructor(name: string) {
    super(`lease "${name}" was lost (another worker took over after it expired); work stopped before writing`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Lease names held in this process. The holder id is the process's, so two passes inside one
 * process must be kept apart here (the database would let both in) — whichever store object
 * each uses, since several store objects may reach the same database (e.g. one per worker).
 */
const heldInProcess = new Set<string>();

function heldNames(_store: object): Set<string> {
  return heldInProcess;
}

export interface OrgLeaseOptions {
  /** Defaults to this process's identity (lease-holder.ts). */
  holder?: string;
  ttlMs?: number;
  heartbeatMs?: number;
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
  private renewedAt = 0;
  private lost = false;
  private held = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly ctx: Pick<AppContext, 'storage' | 'clock' | 'log'>,
    orgId: string,
    options: OrgLeaseOptions | string = {},
  ) {
    const opts = typeof options === 'string' ? { holder: options } : options;
    this.name = `aggregate:${orgId}`;
    this.holder = opts.holder ?? processLeaseHolder();
    this.ttlMs = opts.ttlMs ?? AGGREGATION_LEASE_TTL_MS;
    this.heartbeatMs = opts.heartbeatMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    this.store = ctx.storage;
  }

  /** True when taken; with `waitMs > 0` polls until then while another holder has it. */
  async acquire(waitMs = 0): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    const local = heldNames(this.store);
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
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
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
    heldNames(this.store).delete(this.name);
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
      // A failed renewal (database away) is retried next beat; writes check `lost` first.
      this.renew(this.ctx.clock.now()).catch((error: unknown) => this.ctx.log.warn({ err: error, lease: this.name }, 'lease heartbeat failed'));
    }, this.heartbeatMs);
    timer.unref?.();
    this.heartbeat = timer;
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

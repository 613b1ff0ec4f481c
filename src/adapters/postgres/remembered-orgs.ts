import pg from 'pg';
import type { Organization } from '../../domain/organization.ts';
import type { Logger } from '../../ports/logger.ts';

/**
 * Organization rows with their data version, kept in the process between changes (ADR 0022).
 * Every query reads them before anything else (its cache key carries the version, ADR 0003),
 * and on PostgreSQL that read was the only round trip of a cached answer: ~0.4 ms of its p50
 * and most of its p95. Migration 062's trigger announces every change of an `orgs` row on
 * `meterboard_org_changes` when its transaction commits; one connection per process LISTENs
 * and drops the row named. A row is kept only while that connection listens: when it fails,
 * everything kept is dropped and reads go to the database again until it is back, so a missed
 * notice can never leave a row in use. Writes of this process drop their row as soon as they
 * return, so a query right after a bump here sees the new version without waiting for the
 * notice; a bump committed by another process is seen once its notice arrives (a read racing
 * with that commit could read either version before, too).
 */

export type OrgWithVersion = { org: Organization; dataVersion: number };

export const ORG_CHANGES_CHANNEL = 'meterboard_org_changes';
export const LISTENER_NAME = 'meterboard-org-changes';
/** More organizations than this are not all kept: the map starts over rather than grow. */
const MAX_REMEMBERED = 10_000;
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export interface RememberedOrgsOptions {
  url: string;
  /** The schema the rows live in (`public` when absent): notices of other schemas are not ours. */
  schema?: string | undefined;
  log?: Logger | undefined;
}

export class RememberedOrgs {
  private readonly rows = new Map<string, OrgWithVersion>();
  /** Moves on every drop: a read that started before one must not keep what it read. */
  private epoch = 0;
  private listener: pg.Client | null = null;
  private listening = false;
  private closed = false;
  private retryMs = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly prefix: string;

  constructor(private readonly options: RememberedOrgsOptions) {
    this.prefix = `${options.schema ?? 'public'}.`;
  }

  /** The kept row, or `load`'s answer (kept when nothing changed while it was read). */
  async read(orgId: string, load: () => Promise<OrgWithVersion | null>): Promise<OrgWithVersion | null> {
    this.listen();
    if (this.listening) {
      const kept = this.rows.get(orgId);
      if (kept !== undefined) return kept;
    }
    const epoch = this.epoch;
    const found = await load();
    if (found !== null && this.listening && this.epoch === epoch) {
      if (this.rows.size >= MAX_REMEMBERED) this.rows.clear();
      this.rows.set(orgId, found);
    }
    return found;
  }

  /** This process changed the row: drop it now, without waiting for the notice. */
  forget(orgId: string): void {
    this.epoch += 1;
    this.rows.delete(orgId);
  }

  /** Whether rows are kept now (the listening connection is up); for tests and diagnostics. */
  get active(): boolean {
    return this.listening;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const listener = this.listener;
    this.stopListening();
    await listener?.end().catch(() => undefined);
  }

  /** Opens the listening connection once (lazily: processes that never query never hold one). */
  private listen(): void {
    if (this.listener !== null || this.closed || this.retryTimer !== null) return;
    // Named with its schema, so an operator (or a test) can tell whose listener a backend is.
    const listener = new pg.Client({ connectionString: this.options.url, application_name: `${LISTENER_NAME}:${this.prefix.slice(0, -1)}` });
    this.listener = listener;
    listener.on('notification', (notice) => {
      if (notice.channel !== ORG_CHANGES_CHANNEL || notice.payload === undefined) return;
      if (notice.payload.startsWith(this.prefix)) this.forget(notice.payload.slice(this.prefix.length));
    });
    const lost = (error?: Error) => {
      if (this.listener !== listener) return;
      this.stopListening();
      void listener.end().catch(() => undefined);
      if (this.closed) return;
      this.options.log?.warn({ err: error, retryInMs: this.retryMs }, 'organization change notices stopped; organizations are read from the database until they are back');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.listen();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    };
    listener.on('error', lost);
    listener.on('end', () => lost());
    void (async () => {
      try {
        await listener.connect();
        // An idle listener must not keep a process alive that has nothing else to do.
        (listener as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
        await listener.query(`LISTEN ${ORG_CHANGES_CHANNEL}`);
        if (this.listener !== listener) return;
        // Rows read before now were read without a listener: none is kept, so none can be stale.
        this.epoch += 1;
        this.listening = true;
        this.retryMs = RETRY_FIRST_MS;
      } catch (error) {
        lost(error instanceof Error ? error : new Error(String(error)));
      }
    })();
  }

  private stopListening(): void {
    this.listener = null;
    this.listening = false;
    this.epoch += 1;
    this.rows.clear();
  }
}

import { afterEach, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets, type AggregateResult } from '../../src/app/aggregate.ts';
import type { AppContext } from '../../src/app/context.ts';
import { MAX_INCREMENTAL_HOURS } from '../../src/app/incremental-tiers.ts';
import type { DirtyQueue } from '../../src/ports/storage.ts';
import { makeOrg } from '../factories/org.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { generateEvents } from './generate.ts';
import type { SentEvent } from './oracle.ts';
import { createAggregationContext, ENGINES, ingestAll, seededRandom, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/**
 * Organizations of one pass aggregated more than one at a time (`DirtyQueue.orgsAtOnce`: 3 on
 * PostgreSQL; forced to 2 here on every engine): steady rounds overlap, a backlog round runs alone, and
 * every organization's tiers still equal the oracle.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 18, 12, 0, 0);

/** Records, per organization, the storage calls in flight while the pass runs. */
class InFlight {
  private readonly open = new Map<string, number>();
  mostAtOnce = 0;
  /** Called as each recorded call starts. */
  onCall: (orgId: string) => void = () => undefined;
  /** Organizations seen in flight together with `orgId`. */
  readonly alongside = new Map<string, Set<string>>();

  async around<T>(orgId: string, call: () => Promise<T>): Promise<T> {
    this.onCall(orgId);
    this.open.set(orgId, (this.open.get(orgId) ?? 0) + 1);
    const busy = [...this.open.keys()];
    this.mostAtOnce = Math.max(this.mostAtOnce, busy.length);
    for (const a of busy) for (const b of busy) if (a !== b) this.alongside.set(a, (this.alongside.get(a) ?? new Set()).add(b));
    try {
      return await call();
    } finally {
      const left = this.open.get(orgId)! - 1;
      if (left === 0) this.open.delete(orgId);
      else this.open.set(orgId, left);
    }
  }
}

function orgIdOf(argument: unknown): string | undefined {
  if (typeof argument === 'string') return argument;
  if (typeof argument === 'object' && argument !== null && 'orgId' in argument && typeof argument.orgId === 'string') return argument.orgId;
  return undefined;
}

/** The role with every method's calls recorded under the organization of its first argument. */
function tracked<T extends object>(role: T, inFlight: InFlight): T {
  return new Proxy(role, {
    get(target, key) {
      const member: unknown = Reflect.get(target, key);
      if (typeof member !== 'function') return member;
      return (...args: unknown[]) => {
        const orgId = orgIdOf(args[0]);
        const call = () => Promise.resolve(member.apply(target, args) as unknown);
        return orgId === undefined ? call() : inFlight.around(orgId, call);
      };
    },
  });
}

/** Two organizations at a time, and every read and write of the aggregation recorded. */
function twoAtOnce(ctx: AppContext): InFlight {
  const inFlight = new InFlight();
  const queue = ctx.dirtyQueue;
  const twoAtATime: DirtyQueue = {
    orgsAtOnce: 2,
    markDirty: (orgId, hours) => queue.markDirty(orgId, hours),
    dirtyOrgs: () => queue.dirtyOrgs(),
    listDirty: (orgId, limit) => queue.listDirty(orgId, limit),
    clearDirty: (marks) => queue.clearDirty(marks),
  };
  ctx.dirtyQueue = twoAtATime;
  ctx.eventReader = tracked(ctx.eventReader, inFlight);
  ctx.rollupReader = tracked(ctx.rollupReader, inFlight);
  ctx.rollupWriter = tracked(ctx.rollupWriter, inFlight);
  return inFlight;
}

describe.each(ENGINES)('organizations two at a time on %s', (engine) => {
  let t: AggregationTestContext;
  afterEach(async () => {
    await t?.close();
  });

  async function orgWith(timezone: string, seed: number, from: number, count: number) {
    const org = makeOrg({ timezone });
    await t.ctx.storage.createOrg(org, NOW);
    const sent: SentEvent[] = generateEvents({ random: seededRandom(seed), idPrefix: org.id, from, to: NOW - 60_000, count });
    await ingestAll(t.ctx, org.id, sent);
    return { org, sent };
  }

  it('overlaps steady rounds of different organizations, each equal to the oracle', async () => {
    // Folded in process (no aggregation threads): every read and write goes through the recorded roles.
    t = await createAggregationContext(engine, { now: NOW, threads: 1 });
    const orgs = [await orgWith('Europe/Zurich', 1, NOW - 6 * HOUR, 400), await orgWith('Asia/Kolkata', 2, NOW - 6 * HOUR, 400), await orgWith('UTC', 3, NOW - 6 * HOUR, 400)];
    await aggregateDirtyBuckets(t.ctx);
    const inFlight = twoAtOnce(t.ctx);
    for (const [i, { org, sent }] of orgs.entries()) {
      const more = generateEvents({ random: seededRandom(10 + i), idPrefix: `${org.id}-more`, from: NOW - 2 * HOUR, to: NOW - 60_000, count: 300 });
      await ingestAll(t.ctx, org.id, more);
      sent.push(...more);
    }

    const pass = await aggregateDirtyBuckets(t.ctx);

    expect(pass.orgs).toBe(3);
    expect(inFlight.mostAtOnce).toBe(2);
    for (const { org, sent } of orgs) expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics)), org.timezone).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('runs a backlog round alone while steady rounds of other organizations wait or overlap each other', async () => {
    t = await createAggregationContext(engine, { now: NOW, threads: 1 });
    // Six days of hours: more dirty hours than a steady round takes.
    const backlog = await orgWith('America/New_York', 4, NOW - 6 * DAY, 3_000);
    expect((await t.ctx.storage.listDirty(backlog.org.id, 1_000)).length).toBeGreaterThan(MAX_INCREMENTAL_HOURS);
    const steady = [await orgWith('UTC', 5, NOW - 3 * HOUR, 300), await orgWith('Asia/Kolkata', 6, NOW - 3 * HOUR, 300)];
    const inFlight = twoAtOnce(t.ctx);

    const pass = await aggregateDirtyBuckets(t.ctx);

    expect(pass.orgs).toBe(3);
    expect(inFlight.alongside.get(backlog.org.id) ?? new Set()).toEqual(new Set());
    for (const { org, sent } of [backlog, ...steady]) expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics)), org.timezone).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('leaves the lease of an organization waiting for its turn to another worker', async () => {
    t = await createAggregationContext(engine, { now: NOW, threads: 1 });
    const orgs = [await orgWith('UTC', 7, NOW - 5 * DAY, 1_500), await orgWith('Europe/Zurich', 8, NOW - 5 * DAY, 1_500)];
    const inFlight = twoAtOnce(t.ctx);
    const peer = await t.openPeer();
    let peerPass: Promise<AggregateResult> | undefined;
    // As soon as this worker works on one backlog, a second worker asks for the other one.
    inFlight.onCall = (orgId) => {
      peerPass ??= aggregateDirtyBuckets(peer, { orgId: orgs.find((o) => o.org.id !== orgId)!.org.id });
    };

    const pass = await aggregateDirtyBuckets(t.ctx);
    const other = await peerPass!;

    expect(other).toMatchObject({ orgs: 1, skipped: [] });
    expect(pass.orgs + pass.skipped.length).toBe(2);
    expect(await t.ctx.dirtyQueue.dirtyOrgs()).toEqual([]);
    for (const { org, sent } of orgs) expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics)), org.timezone).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);
});

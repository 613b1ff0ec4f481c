import { Worker } from 'node:worker_threads';
import type { DayShare, DayShareResult, ParallelDayFolder } from '../../ports/day-folder.ts';
import type { Logger } from '../../ports/logger.ts';
import type { StorageLocation } from '../storage-location.ts';
import { describeError, rebuildError, type DayFoldThreadData, type FromThread, type ToThread } from './day-fold-protocol.ts';

/**
 * ParallelDayFolder on worker_threads (ADR 0016). Threads start on the first share and stay
 * for later passes (a thread loads the whole aggregation code and opens a connection: paid
 * once); each reopens the caller's database from its location. A thread that dies fails the
 * share it was folding, only once it has stopped, and is replaced on the next share; it never
 * takes the process with it. Idle threads do not keep the process alive.
 */

export interface DayFoldThreadsOptions {
  /**
   * The thread's entry module. A `.ts` entry (running from sources under tsx or vitest) is
   * loaded through tsx's loader, registered inside the thread: Node 20 ignores `--import` in a
   * worker's execArgv.
   */
  entry: URL;
  storage: StorageLocation;
  /** Shares folded at the same time. */
  threads: number;
  log: Logger;
}

interface Task {
  id: number;
  share: DayShare;
  beforeWrite(): Promise<void>;
  resolve(result: DayShareResult): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  task: Task | null;
  /** Frees the write slot its current write holds. */
  releaseWrite: (() => void) | null;
  /** Why the thread failed ('error' event), reported when it has exited. */
  crash: Error | null;
}

/** How long a closing thread may take to close its connection before it is terminated. */
const CLOSE_GRACE_MS = 5_000;

export function createDayFoldThreads(options: DayFoldThreadsOptions): ParallelDayFolder {
  const slots = new Set<Slot>();
  const queue: Task[] = [];
  const data: DayFoldThreadData = { storage: options.storage };
  let nextTask = 0;
  let closed = false;

  const send = (slot: Slot, message: ToThread) => slot.worker.postMessage(message);
  // SQLite has one writer at a time: the shares and the caller take turns here, waiting
  // asynchronously, instead of sleeping in the busy handler on the file lock.
  const writeSlot = options.storage.engine === 'sqlite' ? oneAtATime() : async () => () => undefined;
  const freeWrite = (slot: Slot) => {
    slot.releaseWrite?.();
    slot.releaseWrite = null;
  };

  const finish = (slot: Slot, outcome: { result: DayShareResult } | { error: Error }) => {
    const task = slot.task;
    if (task === null) return;
    slot.task = null;
    freeWrite(slot);
    slot.worker.unref();
    if ('result' in outcome) task.resolve(outcome.result);
    else task.reject(outcome.error);
    pump();
  };

  const onMessage = (slot: Slot, message: FromThread) => {
    const task = slot.task;
    if (task === null || message.task !== task.id) return;
    if (message.kind === 'before-write') {
      // The slot first, then the lease check: the write follows the check without a wait between.
      const allow = async (): Promise<boolean> => {
        const release = await writeSlot();
        // The share ended (its thread died) while waiting: nobody to answer.
        if (slot.task !== task) {
          release();
          return false;
        }
        slot.releaseWrite = release;
        await task.beforeWrite();
        return true;
      };
      allow().then(
        (allowed) => {
          if (allowed) send(slot, { kind: 'write-allowed', request: message.request });
        },
        (error: unknown) => {
          if (slot.task !== task) return;
          freeWrite(slot);
          send(slot, { kind: 'write-allowed', request: message.request, refusal: describeError(error) });
        },
      );
    } else if (message.kind === 'write-done') freeWrite(slot);
    else if (message.kind === 'done') finish(slot, { result: message.result });
    else finish(slot, { error: rebuildError(message) });
  };

  const start = (): Slot => {
    const worker = options.entry.pathname.endsWith('.ts')
      ? new Worker(tsxBootstrap(options.entry), { eval: true, workerData: data })
      : new Worker(options.entry, { workerData: data });
    worker.unref();
    const slot: Slot = { worker, task: null, releaseWrite: null, crash: null };
    slots.add(slot);
    worker.on('message', (message: FromThread) => onMessage(slot, message));
    // An uncaught error ends the thread; its share fails when the thread has stopped ('exit').
    worker.on('error', (error) => {
      slot.crash = error;
      options.log.error({ err: error }, 'aggregation thread failed');
    });
    worker.on('exit', (code) => {
      slots.delete(slot);
      finish(slot, { error: slot.crash ?? new Error(`aggregation thread stopped (exit code ${code}) before its share was done`) });
    });
    return slot;
  };

  function pump(): void {
    while (queue.length > 0 && !closed) {
      let slot = [...slots].find((s) => s.task === null);
      if (slot === undefined && slots.size < options.threads) slot = start();
      if (slot === undefined) return;
      const task = queue.shift()!;
      slot.task = task;
      // A share in progress keeps the process alive (nothing else may be waiting on the loop).
      slot.worker.ref();
      send(slot, { kind: 'fold', task: task.id, share: task.share });
    }
  }

  return {
    threads: options.threads,
    writeSlot,
    foldDays(share, beforeWrite) {
      if (closed) return Promise.reject(new Error('aggregation threads are closed'));
      return new Promise<DayShareResult>((resolve, reject) => {
        queue.push({ id: (nextTask += 1), share, beforeWrite, resolve, reject });
        pump();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const task of queue.splice(0)) task.reject(new Error('aggregation threads are closed'));
      await Promise.all(
        [...slots].map(async (slot) => {
          const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
          send(slot, { kind: 'close' });
          const timer = setTimeout(() => void slot.worker.terminate(), CLOSE_GRACE_MS);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}

/** A queue of turns: each caller gets the slot when the previous holder released it (release is idempotent). */
function oneAtATime(): () => Promise<() => void> {
  let tail: Promise<void> = Promise.resolve();
  return () => {
    let free!: () => void;
    const freed = new Promise<void>((resolve) => {
      free = resolve;
    });
    const turn = tail.then(() => () => free());
    tail = tail.then(() => freed);
    return turn;
  };
}

/** An eval'd module that registers tsx's loader in the thread, then imports the `.ts` entry. */
function tsxBootstrap(entry: URL): string {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
}

import { parentPort, workerData } from 'node:worker_threads';
import type { DayShare, DayShareResult } from '../../ports/day-folder.ts';
import { describeError, rebuildError, type DayFoldThreadData, type FromThread, type ToThread } from './day-fold-protocol.ts';

/** What an aggregation thread does with a share: fold and write it, calling `beforeWrite` before each write and `afterWrite` after it. */
export type FoldShare = (share: DayShare, hooks: { beforeWrite(): Promise<void>; afterWrite(): void }) => Promise<DayShareResult>;

/**
 * The thread side of the day-fold protocol (day-fold-threads.ts is the other side): answers
 * `fold` messages with `done`/`failed`, turning each `beforeWrite` into a question to the
 * aggregating thread. Shares run one at a time per thread (the pool sends one at a time).
 */
export function serveDayFolds(fold: FoldShare, closeStorage: () => Promise<void>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveDayFolds runs in an aggregation thread (worker_threads), not on the main thread');
  const send = (message: FromThread) => port.postMessage(message);
  const answers = new Map<number, { resolve(): void; reject(error: Error): void }>();
  let nextRequest = 0;

  const run = async (task: number, share: DayShare): Promise<void> => {
    const beforeWrite = () =>
      new Promise<void>((resolve, reject) => {
        const request = (nextRequest += 1);
        answers.set(request, { resolve, reject });
        send({ kind: 'before-write', task, request });
      });
    const afterWrite = () => send({ kind: 'write-done', task });
    try {
      send({ kind: 'done', task, result: await fold(share, { beforeWrite, afterWrite }) });
    } catch (error) {
      send({ kind: 'failed', task, ...describeError(error) });
    }
  };

  port.on('message', (message: ToThread) => {
    if (message.kind === 'fold') void run(message.task, message.share);
    else if (message.kind === 'write-allowed') {
      const answer = answers.get(message.request);
      answers.delete(message.request);
      if (message.refusal === undefined) answer?.resolve();
      else answer?.reject(rebuildError(message.refusal));
    } else if (message.kind === 'close') {
      void closeStorage()
        .catch(() => undefined)
        .finally(() => port.close());
    }
  });
}

/** What this aggregation thread was started with (its storage location). */
export function dayFoldThreadData(): DayFoldThreadData {
  return workerData as DayFoldThreadData;
}

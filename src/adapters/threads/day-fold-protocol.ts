import type { DayShare, DayShareResult } from '../../ports/day-folder.ts';
import type { StorageLocation } from '../storage-location.ts';

/**
 * Messages between the aggregating thread and an aggregation thread (ADR 0016). Every write of
 * a share waits for a `write-allowed` answer to its `before-write` question: the write slot is
 * taken (SQLite: one writer at a time) and the org lease checked (and renewed) on the thread
 * that holds it; `write-done` frees the slot.
 */

/** What a thread is started with. */
export interface DayFoldThreadData {
  storage: StorageLocation;
}

export type ToThread =
  | { kind: 'fold'; task: number; share: DayShare }
  | { kind: 'write-allowed'; request: number; refusal?: { name: string; message: string } }
  /** Close the storage connection and end the thread. */
  | { kind: 'close' };

export type FromThread =
  | { kind: 'before-write'; task: number; request: number }
  /** The write `before-write` let through has ended (its write slot is free again). */
  | { kind: 'write-done'; task: number }
  | { kind: 'done'; task: number; result: DayShareResult }
  | { kind: 'failed'; task: number; name: string; message: string };

/** An error as it crosses threads: name and message (classes do not survive structured cloning). */
export function describeError(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}

export function rebuildError(described: { name: string; message: string }): Error {
  const error = new Error(described.message);
  error.name = described.name;
  return error;
}

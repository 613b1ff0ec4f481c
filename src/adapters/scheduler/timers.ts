/**
 * The time source of the in-process scheduler: tests pass a manual one and move time
 * forward instead of sleeping.
 */
export interface Timers {
  now(): number;
  /** Calls `fn` once after `ms`; returns a cancel function. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** Node's timers, unref'd: a pending schedule never keeps the process alive. */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
};

/** The domain never reads the wall clock itself; callers pass one in. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export function fixedClock(epochMs: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let current = epochMs;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

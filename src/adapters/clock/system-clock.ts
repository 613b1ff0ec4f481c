import type { Clock } from '../../domain/clock.ts';

/** The wall clock, kept out of the pure domain. */
export const systemClock: Clock = { now: () => Date.now() };

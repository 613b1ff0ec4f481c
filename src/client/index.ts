/**
 * `meterboard/client`: send events to meterboard from any Node.js (≥ 20) program.
 * No server code and no runtime dependencies; the request-logging middleware lives in
 * `meterboard/client/fastify` and `meterboard/client/express`.
 */
export { Meterboard } from './meterboard.ts';
export type { DropReason, DropReport, MeterboardOptions, MeterboardStats } from './meterboard.ts';
export { events, toWireEvent } from './events.ts';
export type * from './events.ts';
export { DEFAULT_RETRY_POLICY } from './retry-policy.ts';
export type { RetryPolicy } from './retry-policy.ts';

import { errorCodeAndMessage } from '../outage.ts';

/** Socket-level failures reaching the server. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
/**
 * SQLSTATEs of an outage: class 08 (connection exception), 57P01 admin shutdown (server
 * stopping, or pg_terminate_backend), 57P02 crash shutdown, 57P03 cannot connect now (starting
 * up, shutting down, recovery), 53300 too many connections.
 */
const OUTAGE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
/** node-postgres reports these without a code. */
const OUTAGE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Client was closed and is not queryable/;

/** True for errors meaning "PostgreSQL cannot serve now", as opposed to a bad query or a bug. */
export function isPostgresOutage(error: unknown): boolean {
  const { code, message } = errorCodeAndMessage(error);
  if (code !== undefined && (NETWORK_CODES.has(code) || OUTAGE_SQLSTATE.test(code))) return true;
  // A pool that cannot connect may wrap the socket error in an AggregateError (several addresses).
  if (error instanceof AggregateError && error.errors.some(isPostgresOutage)) return true;
  return OUTAGE_MESSAGES.test(message);
}

import { ConfigError } from '../config/config-error.ts';
import { DomainError, UnavailableError } from '../domain/errors.ts';

/** Exit codes of SPEC §8: 0 success, 1 failure, 2 bad usage — each with a one-line reason on stderr. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) return EXIT_USAGE;
  if (error instanceof DomainError && error.code === 'validation') return EXIT_USAGE;
  return EXIT_FAILURE;
}

export function oneLineReason(error: unknown): string {
  if (error instanceof ConfigError) return `invalid configuration: ${error.message}`;
  let message = error instanceof Error ? error.message : String(error);
  // An operator at a terminal wants the underlying reason (which host refused, which file is locked).
  if (error instanceof UnavailableError && error.cause instanceof Error) message = `${message}: ${error.cause.message}`;
  return message.split('\n')[0] ?? message;
}

import { ConfigError } from '../config/config-error.ts';
import { DomainError } from '../domain/errors.ts';

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
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

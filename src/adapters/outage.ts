import { UnavailableError } from '../domain/errors.ts';

export const DATABASE_UNAVAILABLE = 'the database is unavailable; retry shortly';

/**
 * Wraps every method of a port implementation so the driver's outage errors (as `isOutage`
 * recognizes them) reach callers as the domain's UnavailableError, with the driver error as
 * `cause`. Other errors (bugs, constraint violations already translated) pass unchanged.
 * Non-function members are copied as they are.
 */
export function translateOutages<T extends object>(target: T, isOutage: (error: unknown) => boolean, message = DATABASE_UNAVAILABLE): T {
  const translate = (error: unknown): unknown => (!(error instanceof UnavailableError) && isOutage(error) ? new UnavailableError(message, { cause: error }) : error);
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(target)) {
    if (typeof member !== 'function') {
      wrapped[name] = member;
      continue;
    }
    const method = member as (...args: unknown[]) => unknown;
    wrapped[name] = async (...args: unknown[]): Promise<unknown> => {
      try {
        return await method.apply(target, args);
      } catch (error) {
        throw translate(error);
      }
    };
  }
  return wrapped as T;
}

/** The `code` and `message` of a driver error, whatever its class. */
export function errorCodeAndMessage(error: unknown): { code: string | undefined; message: string } {
  if (typeof error !== 'object' || error === null) return { code: undefined, message: String(error) };
  const code = (error as { code?: unknown }).code;
  const message = (error as { message?: unknown }).message;
  return { code: typeof code === 'string' ? code : undefined, message: typeof message === 'string' ? message : '' };
}

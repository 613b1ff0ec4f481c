/**
 * Typed domain errors. The HTTP edge maps each `code` to a status once
 * (src/http/errors.ts); the CLI maps them to exit codes.
 */
export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `events[3].timestamp` or `timezone`. */
  field: string;
  message: string;
}

export type DomainErrorCode =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, readonly issues: FieldIssue[] = []) {
    super('validation', message, issues.length > 0 ? { issues } : undefined);
    this.name = 'ValidationError';
  }

  static field(field: string, message: string): ValidationError {
    return new ValidationError(`${field}: ${message}`, [{ field, message }]);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super('not_found', message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'ConflictError';
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'missing or unknown API key') {
    super('unauthorized', message);
    this.name = 'UnauthorizedError';
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'this key may not access this resource') {
    super('forbidden', message);
    this.name = 'ForbiddenError';
  }
}

/**
 * A dependency (the database, another worker's lease) cannot serve now; retrying later may
 * succeed. Adapters translate their drivers' outage errors into it, keeping the original as `cause`.
 */
export class UnavailableError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message);
    this.name = 'UnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

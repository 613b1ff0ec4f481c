import { randomBytes } from 'node:crypto';

/** Short random suffix so tests can share one database and run concurrently. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${uniqueSuffix()}`;
}

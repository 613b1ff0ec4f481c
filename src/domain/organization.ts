import { ValidationError } from './errors.ts';

export interface Organization {
  id: string;
  name: string;
  /** IANA time zone name; buckets are aligned to it. */
  timezone: string;
  createdAt: number;
  updatedAt: number;
}

export type KeyScope = 'ingest' | 'read' | 'admin';
export const KEY_SCOPES: readonly KeyScope[] = ['ingest', 'read', 'admin'];

export interface ApiKeyRecord {
  id: string;
  orgId: string;
  scope: KeyScope;
  name: string;
  /** sha256 hex of the secret; the secret itself is never stored. */
  keyHash: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

const SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isValidOrgId(id: string): boolean {
  return SLUG.test(id) || UUID.test(id);
}

/** True when `tz` is an IANA zone this runtime knows (Intl throws RangeError otherwise). */
export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function assertTimeZone(tz: string, field = 'timezone'): void {
  if (!isValidTimeZone(tz)) throw ValidationError.field(field, `unknown IANA time zone "${tz}"`);
}

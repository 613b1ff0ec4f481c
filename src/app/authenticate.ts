import { ForbiddenError, UnauthorizedError } from '../domain/errors.ts';
import type { KeyScope } from '../domain/organization.ts';
import type { AppContext } from './context.ts';

/**
 * API keys: `mb_<scope>_<43 base64url chars>`, stored as sha256 hex. Hashing and random
 * bytes use the Web Crypto API (a global in Node ≥ 20), so this layer needs no adapter.
 */

/**
 * Who is calling. `orgId` is null only for global admin keys (the bootstrap ADMIN_KEY and keys
 * created with POST /api/v1/admin/keys), which belong to no organization and see every one.
 */
export interface Principal {
  keyId: string;
  scope: KeyScope;
  orgId: string | null;
}

export type Access = 'ingest' | 'read' | 'admin';

export const BOOTSTRAP_KEY_ID = 'bootstrap-admin';
/**
 * Stored organization of a global key. Never a valid organization id (those are slugs or
 * UUIDs), so no organization's key listing can contain a global key.
 */
export const GLOBAL_KEY_ORG = '*';
const TOUCH_INTERVAL_MS = 60_000;

export async function hashApiKey(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
  return Buffer.from(digest).toString('hex');
}

export function generateApiKeySecret(scope: KeyScope): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `mb_${scope}_${Buffer.from(bytes).toString('base64url')}`;
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** Per-context memory of when each key was last touched, so a busy key costs one write a minute, not one per request. */
const lastTouched = new WeakMap<object, Map<string, number>>();

function shouldTouch(ctx: Pick<AppContext, 'keyStore'>, keyId: string, now: number): boolean {
  let touched = lastTouched.get(ctx.keyStore);
  if (!touched) {
    touched = new Map();
    lastTouched.set(ctx.keyStore, touched);
  }
  const previous = touched.get(keyId);
  if (previous !== undefined && now - previous < TOUCH_INTERVAL_MS) return false;
  touched.set(keyId, now);
  return true;
}

const bootstrapHashes = new WeakMap<object, Promise<string>>();

function bootstrapHash(ctx: Pick<AppContext, 'config'>, adminKey: string): Promise<string> {
  let hash = bootstrapHashes.get(ctx.config);
  if (!hash) {
    hash = hashApiKey(adminKey);
    bootstrapHashes.set(ctx.config, hash);
  }
  return hash;
}

/**
 * Resolves a bearer secret to its principal; throws UnauthorizedError for a missing, unknown or
 * revoked key. `hashSync` may compute `hashApiKey`'s digest synchronously (the HTTP layer's
 * node:crypto): Web Crypto's async digest cost ~0.3 ms of every request, a cached answer's
 * largest part.
 */
export async function authenticateKey(
  ctx: Pick<AppContext, 'keyStore' | 'config' | 'clock' | 'log'>,
  secret: string | undefined,
  hashSync?: (secret: string) => string,
): Promise<Principal> {
  if (!secret) throw new UnauthorizedError('missing API key: send "Authorization: Bearer <key>"');
  const hash = hashSync ? hashSync(secret) : await hashApiKey(secret);
  if (ctx.config.adminKey && constantTimeEqual(hash, await bootstrapHash(ctx, ctx.config.adminKey))) {
    return { keyId: BOOTSTRAP_KEY_ID, scope: 'admin', orgId: null };
  }
  const record = await ctx.keyStore.findKeyByHash(hash);
  if (!record) throw new UnauthorizedError('unknown or revoked API key');
  const now = ctx.clock.now();
  if (shouldTouch(ctx, record.id, now)) {
    // last_used_at is informational; a failed touch must not fail the request it describes.
    ctx.keyStore.touchKey(record.id, now).catch((error: unknown) => ctx.log.warn({ err: error, keyId: record.id }, 'could not record key use'));
  }
  return { keyId: record.id, scope: record.scope, orgId: record.orgId === GLOBAL_KEY_ORG ? null : record.orgId };
}

/** Global admin keys: the bootstrap ADMIN_KEY and keys created with POST /api/v1/admin/keys. */
export function isGlobalAdmin(principal: Principal): boolean {
  return principal.scope === 'admin' && principal.orgId === null;
}

/**
 * Global admin keys may do anything in every organization; an organization's admin key
 * anything in its own one (SPEC §2: a key belongs to exactly one organization). Read keys
 * only read, ingest keys only write, and both only their own organization. A foreign org gets
 * the same 403 whether or not it exists, so keys cannot probe for tenants.
 */
export function authorizeOrg(principal: Principal, orgId: string, needed: Access): void {
  if (principal.orgId !== null && principal.orgId !== orgId) throw new ForbiddenError('this key may not access this organization');
  if (principal.scope === 'admin') return;
  if (principal.scope !== needed) {
    throw new ForbiddenError(`this operation needs a key with scope "${needed}"; this key has scope "${principal.scope}"`);
  }
}

/** Operations that are not about one organization (creating orgs, global keys, a pass over all orgs). */
export function requireGlobalAdmin(principal: Principal): void {
  if (!isGlobalAdmin(principal)) {
    throw new ForbiddenError('this operation needs a global admin key (ADMIN_KEY or one created with POST /api/v1/admin/keys)');
  }
}

import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { authenticateKey } from '../app/authenticate.ts';
import type { Principal } from '../app/authenticate.ts';

export { authorizeOrg, isGlobalAdmin, requireGlobalAdmin } from '../app/authenticate.ts';
export type { Access, Principal } from '../app/authenticate.ts';

/** Principals already resolved for a request (an onRequest hook may authenticate before the body is read). */
const principals = new WeakMap<FastifyRequest, Principal>();

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** `hashApiKey`'s digest (sha256, hex), computed synchronously. */
export function hashApiKeySync(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Resolves `Authorization: Bearer <key>` to its principal, or throws UnauthorizedError (401).
 * Safe to call more than once per request; the lookup happens once.
 */
export async function authenticate(request: FastifyRequest, ctx: Parameters<typeof authenticateKey>[0]): Promise<Principal> {
  const known = principals.get(request);
  if (known) return known;
  const principal = await authenticateKey(ctx, bearerToken(request), hashApiKeySync);
  principals.set(request, principal);
  return principal;
}

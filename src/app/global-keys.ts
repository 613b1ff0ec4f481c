import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { ApiKeyRecord } from '../domain/organization.ts';
import type { KeyStore } from '../ports/storage.ts';
import type { AppContext } from './context.ts';
import { GLOBAL_KEY_ORG, generateApiKeySecret, hashApiKey } from './authenticate.ts';

/**
 * Global admin keys: like the bootstrap ADMIN_KEY they belong to no organization and manage
 * every one. Stored among the keys under the reserved organization GLOBAL_KEY_ORG.
 */

type GlobalKeyContext = Pick<AppContext, 'clock' | 'log'> & { keyStore: Pick<KeyStore, 'createKey' | 'listKeys' | 'revokeKey'> };

const MAX_NAME = 200;

export async function createGlobalKey(ctx: GlobalKeyContext, input: { name?: string }): Promise<{ record: ApiKeyRecord; secret: string }> {
  const name = (input.name ?? 'global admin key').trim();
  if (name.length === 0 || name.length > MAX_NAME) throw ValidationError.field('name', `must be 1 to ${MAX_NAME} characters`);
  const secret = generateApiKeySecret('admin');
  const record = await ctx.keyStore.createKey(
    { id: crypto.randomUUID(), orgId: GLOBAL_KEY_ORG, scope: 'admin', name, keyHash: await hashApiKey(secret) },
    ctx.clock.now(),
  );
  ctx.log.info({ keyId: record.id, scope: 'admin', global: true }, 'global admin key created');
  return { record, secret };
}

export async function listGlobalKeys(ctx: GlobalKeyContext): Promise<ApiKeyRecord[]> {
  return (await ctx.keyStore.listKeys(GLOBAL_KEY_ORG)).filter((key) => key.revokedAt === null);
}

export async function revokeGlobalKey(ctx: GlobalKeyContext, keyId: string): Promise<void> {
  if (!(await ctx.keyStore.revokeKey(GLOBAL_KEY_ORG, keyId, ctx.clock.now()))) throw new NotFoundError(`global API key "${keyId}" not found`);
  ctx.log.info({ keyId, global: true }, 'global admin key revoked');
}

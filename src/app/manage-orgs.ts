import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { FieldIssue } from '../domain/errors.ts';
import { KEY_SCOPES, assertTimeZone, isValidOrgId } from '../domain/organization.ts';
import type { ApiKeyRecord, KeyScope, Organization } from '../domain/organization.ts';
import type { AppContext } from './context.ts';
import { generateApiKeySecret, hashApiKey } from './authenticate.ts';

/** Organizations and their API keys: the administration use cases behind HTTP and the CLI. */

const MAX_NAME = 200;

/**
 * Called after an organization's time zone changed: every bucket boundary moved, so its
 * rollups must be rebuilt from raw events (the aggregation work supplies the implementation).
 */
export type OnTimezoneChanged<C = AppContext> = (ctx: C, org: Organization, previousTimezone: string) => Promise<void>;

type OrgReads = Pick<AppContext, 'orgStore'>;
type OrgWrites = Pick<AppContext, 'orgStore' | 'clock' | 'log'>;
type KeyWrites = Pick<AppContext, 'orgStore' | 'keyStore' | 'clock' | 'log'>;

function checkName(name: unknown, issues: FieldIssue[]): void {
  if (typeof name !== 'string' || name.trim().length === 0) issues.push({ field: 'name', message: 'must be a non-empty string' });
  else if (name.length > MAX_NAME) issues.push({ field: 'name', message: `must be at most ${MAX_NAME} characters` });
}

function throwIfAny(issues: FieldIssue[]): void {
  if (issues.length === 0) return;
  throw new ValidationError(issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '), issues);
}

export async function createOrg(ctx: OrgWrites & Pick<AppContext, 'config'>, input: { id: string; name?: string; timezone?: string }): Promise<Organization> {
  const issues: FieldIssue[] = [];
  if (typeof input.id !== 'string' || !isValidOrgId(input.id)) {
    issues.push({ field: 'id', message: 'must be a slug matching [a-z0-9][a-z0-9_-]{0,62} or a UUID' });
  }
  const name = input.name ?? input.id;
  checkName(name, issues);
  const timezone = input.timezone ?? ctx.config.defaultTimezone;
  try {
    assertTimeZone(timezone);
  } catch (error) {
    if (error instanceof ValidationError) issues.push(...error.issues);
    else throw error;
  }
  throwIfAny(issues);
  const org = await ctx.orgStore.createOrg({ id: input.id, name: name.trim(), timezone }, ctx.clock.now());
  ctx.log.info({ orgId: org.id, timezone: org.timezone }, 'organization created');
  return org;
}

export function listOrgs(ctx: OrgReads): Promise<Organization[]> {
  return ctx.orgStore.listOrgs();
}

export async function getOrg(ctx: OrgReads, orgId: string): Promise<Organization> {
  const org = await ctx.orgStore.getOrg(orgId);
  if (!org) throw new NotFoundError(`organization "${orgId}" not found`);
  return org;
}

export async function updateOrg<C extends OrgWrites>(
  ctx: C,
  input: { id: string; name?: string; timezone?: string },
  onTimezoneChanged?: OnTimezoneChanged<C>,
): Promise<Organization> {
  const issues: FieldIssue[] = [];
  if (input.name !== undefined) checkName(input.name, issues);
  if (input.timezone !== undefined) {
    try {
      assertTimeZone(input.timezone);
    } catch (error) {
      if (error instanceof ValidationError) issues.push(...error.issues);
      else throw error;
    }
  }
  throwIfAny(issues);
  const before = await getOrg(ctx, input.id);
  const patch: { name?: string; timezone?: string } = {};
  if (input.name !== undefined) patch.name = input.name.trim();
  if (input.timezone !== undefined) patch.timezone = input.timezone;
  if (Object.keys(patch).length === 0) return before;
  const after = await ctx.orgStore.updateOrg(input.id, patch, ctx.clock.now());
  if (!after) throw new NotFoundError(`organization "${input.id}" not found`);
  if (after.timezone !== before.timezone) {
    ctx.log.info({ orgId: after.id, from: before.timezone, to: after.timezone }, 'organization time zone changed; rollups need a rebuild');
    if (onTimezoneChanged) await onTimezoneChanged(ctx, after, before.timezone);
  }
  return after;
}

export interface CreatedKey {
  record: ApiKeyRecord;
  /** The secret itself: returned once, never stored. */
  secret: string;
}

export async function createKey(ctx: KeyWrites, input: { orgId: string; scope: string; name?: string }): Promise<CreatedKey> {
  const issues: FieldIssue[] = [];
  if (!KEY_SCOPES.includes(input.scope as KeyScope)) issues.push({ field: 'scope', message: `must be one of ${KEY_SCOPES.join(', ')}` });
  const name = input.name ?? `${input.scope} key`;
  checkName(name, issues);
  throwIfAny(issues);
  await getOrg(ctx, input.orgId);
  const scope = input.scope as KeyScope;
  const secret = generateApiKeySecret(scope);
  const record = await ctx.keyStore.createKey(
    { id: crypto.randomUUID(), orgId: input.orgId, scope, name: name.trim(), keyHash: await hashApiKey(secret) },
    ctx.clock.now(),
  );
  ctx.log.info({ orgId: record.orgId, keyId: record.id, scope: record.scope }, 'API key created');
  return { record, secret };
}

/** Active keys only: a revoked key is gone as far as its users are concerned. */
export async function listKeys(ctx: Pick<AppContext, 'orgStore' | 'keyStore'>, orgId: string): Promise<ApiKeyRecord[]> {
  await getOrg(ctx, orgId);
  return (await ctx.keyStore.listKeys(orgId)).filter((key) => key.revokedAt === null);
}

export async function revokeKey(ctx: KeyWrites, orgId: string, keyId: string): Promise<void> {
  await getOrg(ctx, orgId);
  const revoked = await ctx.keyStore.revokeKey(orgId, keyId, ctx.clock.now());
  if (!revoked) throw new NotFoundError(`API key "${keyId}" not found in organization "${orgId}"`);
  ctx.log.info({ orgId, keyId }, 'API key revoked');
}

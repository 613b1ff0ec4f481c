import { ApiError, apiGet, orgPath, parseOrgList } from '../api/client.ts';
import type { OrgInfo } from '../api/types.ts';

export interface Session {
  key: string;
  /** Organization shown; for read keys the only one they may see. */
  orgId: string;
}

// The key lives for the tab only (sessionStorage), never in the URL or localStorage.
const SESSION_KEY = 'meterboard.session';
// The org id is not a secret; remembering it saves typing it on the next sign-in.
const LAST_ORG_KEY = 'meterboard.lastOrg';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.key !== 'string' || typeof parsed.orgId !== 'string') return null;
    return { key: parsed.key, orgId: parsed.orgId };
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  try {
    localStorage.setItem(LAST_ORG_KEY, session.orgId);
  } catch {
    // Storage may be disabled; remembering the org is a convenience only.
  }
}

export function clearSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

export function lastOrgId(): string {
  try {
    return localStorage.getItem(LAST_ORG_KEY) ?? '';
  } catch {
    return '';
  }
}

export class SignInError extends Error {}

/**
 * Find out what a key may read. GET /api/v1/orgs lists every organization for an admin key and
 * the own one for a read key; a server that refuses the listing to non-admins (403) gets the
 * typed organization id checked with a read endpoint instead.
 */
export async function signIn(key: string, orgIdInput: string): Promise<{ session: Session; orgs: OrgInfo[] }> {
  const orgId = orgIdInput.trim();
  if (!key) throw new SignInError('Enter an API key.');
  try {
    const orgs = parseOrgList(await apiGet<unknown>(key, '/api/v1/orgs'));
    const chosen = orgs.find((org) => org.id === orgId) ?? orgs[0];
    if (orgId && orgs.length > 0 && !orgs.some((org) => org.id === orgId)) {
      throw new SignInError(`Organization "${orgId}" does not exist or this key cannot read it.`);
    }
    return { session: { key, orgId: chosen?.id ?? '' }, orgs };
  } catch (error) {
    if (error instanceof SignInError) throw error;
    if (!(error instanceof ApiError) || error.status !== 403) throw explain(error);
  }
  if (!orgId) throw new SignInError('This key cannot list organizations: enter the organization id it belongs to.');
  try {
    await apiGet<unknown>(key, orgPath(orgId, 'metrics'));
  } catch (error) {
    throw explain(error, orgId);
  }
  return { session: { key, orgId }, orgs: [] };
}

function explain(error: unknown, orgId?: string): SignInError {
  if (error instanceof ApiError) {
    if (error.status === 401) return new SignInError('Wrong key: the server did not accept it.');
    if (error.status === 403 || error.status === 404) {
      return new SignInError(`This key cannot read organization "${orgId ?? ''}".`);
    }
    if (error.status === 0) return new SignInError('The server could not be reached.');
    return new SignInError(`Sign-in failed: ${error.message} (HTTP ${error.status}).`);
  }
  return new SignInError(error instanceof Error ? error.message : String(error));
}

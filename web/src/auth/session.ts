import { ApiError, apiGet, parseOrgList } from '../api/client.ts';
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

interface MeResponse {
  scope: 'ingest' | 'read' | 'admin';
  organization: { id: string; name: string; timezone: string } | null;
}

/**
 * Sign in with the key alone: GET /api/v1/me says which organization a read key belongs to;
 * an admin key sees every organization and starts on `preferredOrg` (from the URL or the last
 * visit) when it exists, else the first.
 */
export async function signIn(key: string, preferredOrg = ''): Promise<{ session: Session; orgs: OrgInfo[] }> {
  if (!key) throw new SignInError('Enter an API key.');
  let me: MeResponse;
  try {
    me = await apiGet<MeResponse>(key, '/api/v1/me');
  } catch (error) {
    throw explain(error);
  }
  if (me.scope === 'ingest') throw new SignInError('This is an ingest key: it can send events but not read them. Sign in with a read or admin key.');
  if (me.organization !== null) {
    const own: OrgInfo = { id: me.organization.id, name: me.organization.name, timezone: me.organization.timezone };
    return { session: { key, orgId: own.id }, orgs: [own] };
  }
  let orgs: OrgInfo[];
  try {
    orgs = parseOrgList(await apiGet<unknown>(key, '/api/v1/orgs'));
  } catch (error) {
    throw explain(error);
  }
  const chosen = orgs.find((org) => org.id === preferredOrg) ?? orgs[0];
  return { session: { key, orgId: chosen?.id ?? '' }, orgs };
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

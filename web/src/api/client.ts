import type { OrgInfo } from './types.ts';

/** A failed API call, carrying what the error state shows: which request, which status, why. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly path: string;

  constructor(path: string, status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.path = path;
  }
}

export type QueryParams = Record<string, string | number | undefined | null>;

export function buildPath(path: string, params: QueryParams = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(name, String(value));
  }
  const query = search.toString();
  return query ? `${path}?${query}` : path;
}

async function readError(path: string, response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON (proxy error page, empty body): the status line is all we have.
  }
  return new ApiError(path, response.status, code, message);
}

/** GET a JSON resource with the key in the Authorization header (never in the URL). */
export async function apiGet<T>(key: string, path: string, params?: QueryParams, signal?: AbortSignal): Promise<T> {
  const url = buildPath(path, params);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Authorization: `Bearer ${key}`, Accept: 'application/json' },
      signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(url, 0, 'network', 'The server could not be reached');
  }
  if (!response.ok) throw await readError(url, response);
  return (await response.json()) as T;
}

export function orgPath(orgId: string, endpoint: string): string {
  return `/api/v1/orgs/${encodeURIComponent(orgId)}/${endpoint}`;
}

/** GET /api/v1/orgs answers a list; accept a bare array or the usual envelopes. */
export function parseOrgList(body: unknown): OrgInfo[] {
  const list = Array.isArray(body)
    ? body
    : (['orgs', 'organizations', 'items', 'data'] as const)
        .map((field) => (body as Record<string, unknown> | null)?.[field])
        .find(Array.isArray);
  if (!Array.isArray(list)) return [];
  return list
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    .map((item) => ({
      id: String(item.id),
      name: typeof item.name === 'string' ? item.name : String(item.id),
      timezone: typeof item.timezone === 'string' ? item.timezone : 'UTC',
    }));
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const status = error.status === 0 ? 'network error' : `HTTP ${error.status}`;
    return `${error.message} (${status})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Like apiGet, for endpoints that answer text (the report HTML). */
export async function apiGetText(key: string, path: string, params?: QueryParams, signal?: AbortSignal): Promise<string> {
  const url = buildPath(path, params);
  let response: Response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${key}` }, signal });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(url, 0, 'network', 'The server could not be reached');
  }
  if (!response.ok) throw await readError(url, response);
  return response.text();
}

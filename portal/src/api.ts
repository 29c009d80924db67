/**
 * The portal's calls to the Kubernetes API: the same paths kubectl uses, on the same origin, with
 * the signed-in user's bearer token. Failures carry the API's Status (code, reason, message and
 * causes) so the page can say what the server said.
 */

/** KubeObject is any API object, read loosely. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; generation?: number; creationTimestamp?: string; labels?: Record<string, string>; generateName?: string };
  spec?: any;
  status?: any;
  [key: string]: unknown;
}

/** StatusCause is one cause of a Kubernetes Status (a field and what is wrong with it). */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** ApiError is a refused or failed call: the HTTP status and the API's Status body when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
    readonly causes: StatusCause[] = [],
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'coracle.portal.token';

/** storedToken is the bearer token kept for this browser tab (sessionStorage), if any. */
export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** storeToken keeps (or with undefined, forgets) the token for this tab. */
export function storeToken(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** toApiError reads a failed response's Status into an ApiError. */
export async function toApiError(response: Response): Promise<ApiError> {
  let body: any;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const message = typeof body?.message === 'string' ? body.message : `${response.status} ${response.statusText}`;
  return new ApiError(response.status, message, body?.reason, Array.isArray(body?.details?.causes) ? body.details.causes : []);
}

/** ApiClient calls the API with one user's token. */
export class ApiClient {
  constructor(readonly token: string) {}

  /** headers are the request headers every call carries. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, accept: 'application/json', ...extra };
  }

  /** request sends one call and returns its JSON body, or throws ApiError. */
  async request<T = any>(path: string, init: { method?: string; body?: unknown; contentType?: string; signal?: AbortSignal } = {}): Promise<T> {
    const method = init.method ?? 'GET';
    const send = () => fetch(path, {
      method,
      headers: this.headers(init.body !== undefined ? { 'content-type': init.contentType ?? 'application/json' } : {}),
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: init.signal,
    });
    // A read that never reached the server (the browser dropped it: network change) is safe to send once more; a write is not.
    const response = await send().catch((err) => (method === 'GET' && err instanceof TypeError && !init.signal?.aborted ? send() : Promise.reject(err)));
    if (!response.ok) throw await toApiError(response);
    return (await response.json()) as T;
  }

  /** mergePatch sends a JSON merge patch (what `kubectl patch --type=merge` sends). */
  mergePatch<T = any>(path: string, patch: unknown): Promise<T> {
    return this.request<T>(path, { method: 'PATCH', body: patch, contentType: 'application/merge-patch+json' });
  }
}

/** describeError says what went wrong in one sentence for the page. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'The API refused this token (401 Unauthorized). Sign in again with a valid token.';
    if (err.status === 403) return `Not allowed (403 Forbidden): ${err.message}`;
    return `${err.message} (${err.status}${err.reason ? ` ${err.reason}` : ''})`;
  }
  return err instanceof Error ? err.message : String(err);
}

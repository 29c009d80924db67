/**
 * Authentication: `Authorization: Bearer <token>`, tried against each token authenticator in turn
 * (static tokens first, then the bootstrap tokens and node credentials kept in the store,
 * tokens.ts); 401 when none knows it.
 */
import { unauthorized } from '../api/status.js';
import type { UserInfo } from './context.js';
import type { TokenAuthenticator } from './tokens.js';

/** staticTokenAuthenticator authenticates the tokens of a fixed map (a static token file, the admin token). */
export function staticTokenAuthenticator(tokens: ReadonlyMap<string, UserInfo>): TokenAuthenticator {
  return (token) => tokens.get(token);
}

/** authenticateToken asks each authenticator in turn and returns the first user found, or undefined. */
export async function authenticateToken(token: string, authenticators: readonly TokenAuthenticator[]): Promise<UserInfo | undefined> {
  for (const authenticate of authenticators) {
    const user = await authenticate(token);
    if (user) return user;
  }
  return undefined;
}

/** AUTHENTICATED_GROUP is added to every authenticated user, as kube-apiserver's authenticator does. */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** authenticate returns the user a request's bearer token names, in `system:authenticated`, or throws 401 Unauthorized. */
export async function authenticate(request: Request, authenticators: readonly TokenAuthenticator[]): Promise<UserInfo> {
  const header = request.headers.get('authorization') ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const user = m ? await authenticateToken(m[1]!, authenticators) : undefined;
  if (!user) throw unauthorized();
  return user.groups.includes(AUTHENTICATED_GROUP) ? user : { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

/** PUBLIC_PATHS are served without credentials, as Kubernetes' system:public-info-viewer allows. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz', '/version']);

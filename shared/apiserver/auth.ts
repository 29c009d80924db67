/**
 * Authentication: `Authorization: Bearer <token>`, tried against each token authenticator in turn
 * (static tokens first, then the bootstrap tokens and node credentials kept in the store,
 * tokens.ts, ServiceAccount tokens and OIDC); 401 when none knows it. TokenReview runs the same
 * chain (runTokenAuthenticators) with the audiences it is asked about.
 */
import { unauthorized } from '../api/status.js';
import type { UserInfo } from './context.js';
import { InvalidToken, type Authenticator, type TokenAuthenticator } from './tokens.js';

/** staticTokenAuthenticator authenticates the tokens of a fixed map (a static token file, the admin token). */
export function staticTokenAuthenticator(tokens: ReadonlyMap<string, UserInfo>): TokenAuthenticator {
  return (token) => tokens.get(token);
}

/** AUTHENTICATED_GROUP is added to every authenticated user, as kube-apiserver's authenticator does. */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** INVALID_BEARER_TOKEN is upstream's bearer token authenticator's error when no authenticator took the token. */
const INVALID_BEARER_TOKEN = 'invalid bearer token';

/** TokenAuthentication is what the chain says of a token: its user (in `system:authenticated`), the audiences it was accepted for, or why not. */
export interface TokenAuthentication {
  user?: UserInfo;
  /** The audiences, among those asked for, that the token is good for (empty when not authenticated). */
  audiences: readonly string[];
  /** Why no authenticator took the token, as kube-apiserver words it (its error aggregate); undefined when authenticated. */
  error?: string;
}

function intersect(a: readonly string[], b: readonly string[]): string[] {
  return a.filter((x) => b.includes(x));
}

/** aggregateMessage renders errors as apimachinery's error aggregate does: duplicates dropped, one alone as is, several as `[a, b]`. */
function aggregateMessage(errors: readonly string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

function withAuthenticatedGroup(user: UserInfo): UserInfo {
  return user.groups.includes(AUTHENTICATED_GROUP) ? user : { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

/**
 * runTokenAuthenticators asks each authenticator in turn (upstream's union: the first user found
 * wins; refusals are collected) for a token presented to `audiences` (empty: the API server's own,
 * `apiAudiences`). An audience-agnostic authenticator (static, bootstrap, admin, OIDC) is asked only
 * when the API server's audiences meet the ones asked for, and its user is good for that
 * intersection (upstream's WrapAudienceAgnosticToken); an audience-aware one checks the token's own.
 */
export async function runTokenAuthenticators(
  token: string, authenticators: readonly Authenticator[], apiAudiences: readonly string[], audiences: readonly string[] = [],
): Promise<TokenAuthentication> {
  const target = audiences.length > 0 ? audiences : apiAudiences;
  const errors: string[] = [];
  for (const authenticator of authenticators) {
    try {
      if (typeof authenticator === 'function') {
        const agnostic = intersect(apiAudiences, target);
        if (target.length > 0 && agnostic.length === 0) continue;
        const user = await authenticator(token);
        if (user) return { user: withAuthenticatedGroup(user), audiences: agnostic };
      } else {
        const found = await authenticator.authenticate(token, target);
        if (found) return { user: withAuthenticatedGroup(found.user), audiences: found.audiences };
      }
    } catch (err) {
      if (!(err instanceof InvalidToken)) throw err;
      errors.push(err.message);
    }
  }
  return { audiences: [], error: aggregateMessage([INVALID_BEARER_TOKEN, ...errors]) };
}

/** authenticateToken returns the user a token names for the API server's own audiences (in `system:authenticated`), or undefined. */
export async function authenticateToken(token: string, authenticators: readonly Authenticator[], apiAudiences: readonly string[] = []): Promise<UserInfo | undefined> {
  return (await runTokenAuthenticators(token, authenticators, apiAudiences)).user;
}

/** authenticate returns the user a request's bearer token names, in `system:authenticated`, or throws 401 Unauthorized. */
export async function authenticate(request: Request, authenticators: readonly Authenticator[], apiAudiences: readonly string[] = []): Promise<UserInfo> {
  const header = request.headers.get('authorization') ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const user = m ? await authenticateToken(m[1]!, authenticators, apiAudiences) : undefined;
  if (!user) throw unauthorized();
  return user;
}

/** PUBLIC_PATHS are served without credentials, as Kubernetes' system:public-info-viewer allows. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz', '/version']);

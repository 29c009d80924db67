/** Authentication: `Authorization: Bearer <token>` against the configured tokens (401 otherwise). */
import { unauthorized } from '../api/status.js';
import type { UserInfo } from './context.js';

/** authenticate returns the user a request's bearer token names, or throws 401 Unauthorized. */
export function authenticate(request: Request, tokens: ReadonlyMap<string, UserInfo>): UserInfo {
  const header = request.headers.get('authorization') ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const user = m ? tokens.get(m[1]) : undefined;
  if (!user) throw unauthorized();
  return user;
}

/** PUBLIC_PATHS are served without credentials, as Kubernetes' system:public-info-viewer allows. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz', '/version']);

/**
 * Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): the `Impersonate-User`,
 * `Impersonate-Group`, `Impersonate-Uid` and `Impersonate-Extra-<key>` headers, each checked with
 * the `impersonate` verb as upstream's impersonation filter does
 * (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): users (or `serviceaccounts` in their
 * namespace for `system:serviceaccount:<ns>:<name>`) and groups in the core group, `uids` and
 * `userextras/<key>` in `authentication.k8s.io`. The request then runs as the impersonated user.
 */
import { internalError } from '../api/status.js';
import type { UserInfo } from '../apiserver/context.js';
import { AUTHENTICATED_GROUP } from '../apiserver/auth.js';
import type { AccessControl } from './authorizer.js';
import { SERVICE_ACCOUNT_USER_PREFIX } from './resolver.js';
import type { AccessAttributes } from './rules.js';

const EXTRA_PREFIX = 'impersonate-extra-';
const ANONYMOUS = 'system:anonymous';

function impersonated(verb: string, apiGroup: string, resource: string, name: string, extra: { namespace?: string; subresource?: string } = {}): AccessAttributes {
  return { resourceRequest: true, verb, apiGroup, resource, name, ...extra };
}

/**
 * impersonate returns who the request acts as: `user` itself without impersonation headers, else
 * the impersonated user once every asked-for attribute is allowed (403 as upstream otherwise).
 */
export async function impersonate(request: Request, user: UserInfo, access: Pick<AccessControl, 'authorizeAttributes'>): Promise<UserInfo> {
  const headers = request.headers;
  const username = headers.get('impersonate-user');
  const groups = (headers.get('impersonate-group') ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '');
  const uid = headers.get('impersonate-uid');
  const extra: Record<string, string[]> = {};
  headers.forEach((value, key) => {
    if (key.startsWith(EXTRA_PREFIX)) extra[decodeURIComponent(key.slice(EXTRA_PREFIX.length))] = value.split(',').map((v) => v.trim());
  });
  if (username === null) {
    if (groups.length > 0 || uid !== null || Object.keys(extra).length > 0) {
      throw internalError(new Error(`requested ${JSON.stringify({ groups, uid, extra })} without impersonating a user`));
    }
    return user;
  }
  const checks: AccessAttributes[] = [];
  const resultGroups = [...groups];
  if (username.startsWith(SERVICE_ACCOUNT_USER_PREFIX)) {
    const [namespace = '', name = ''] = username.slice(SERVICE_ACCOUNT_USER_PREFIX.length).split(':');
    checks.push(impersonated('impersonate', '', 'serviceaccounts', name, { namespace }));
    if (groups.length === 0) resultGroups.push('system:serviceaccounts', `system:serviceaccounts:${namespace}`);
  } else {
    checks.push(impersonated('impersonate', '', 'users', username));
  }
  for (const g of groups) checks.push(impersonated('impersonate', '', 'groups', g));
  if (uid !== null) checks.push(impersonated('impersonate', 'authentication.k8s.io', 'uids', uid));
  for (const [key, values] of Object.entries(extra)) {
    for (const v of values) checks.push(impersonated('impersonate', 'authentication.k8s.io', 'userextras', v, { subresource: key }));
  }
  for (const a of checks) {
    const refusal = await access.authorizeAttributes(user, a);
    if (refusal) throw refusal;
  }
  if (username !== ANONYMOUS && !resultGroups.includes(AUTHENTICATED_GROUP)) resultGroups.push(AUTHENTICATED_GROUP);
  return { username, groups: resultGroups, ...(uid !== null ? { uid } : {}), ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}

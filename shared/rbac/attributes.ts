/**
 * Authorization attributes of a request, and the denial upstream renders for them
 * (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go forbiddenMessage).
 */
import { ApiError, qualifiedResource } from '../api/status.js';
import type { AccessAttributes } from './rules.js';

/** The part of a routed request the attributes are read from (RequestInfo, without importing the API server). */
export interface RoutedRequest {
  verb: string;
  resource: { group: string; plural: string; namespaced: boolean };
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * attributesOf reads a routed request's authorization attributes. As upstream's RequestInfo, a
 * request on `namespaces/<name>` carries `<name>` as its namespace, so a RoleBinding in a namespace
 * may grant reading that namespace itself.
 */
export function attributesOf(info: RoutedRequest): AccessAttributes & { resourceRequest: true } {
  const { group, plural, namespaced } = info.resource;
  const namespace = namespaced ? info.namespace : group === '' && plural === 'namespaces' ? info.name : undefined;
  return { resourceRequest: true, verb: info.verb, apiGroup: group, resource: plural, subresource: info.subresource, name: info.name, namespace };
}

/**
 * forbiddenMessage is upstream's `User "x" cannot list resource "pods" in API group "" in the
 * namespace "y"` (or `at the cluster scope`, or `cannot get path "/x"`).
 */
export function forbiddenMessage(username: string, a: AccessAttributes): string {
  if (!a.resourceRequest) return `User "${username}" cannot ${a.verb} path "${a.path}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
}

/**
 * accessForbidden is the 403 Forbidden Status of a denied request: `pods "web" is forbidden: User
 * ...` (a non-resource request: `forbidden: User ...`), with `: <reason>` when the authorizer gave one.
 */
export function accessForbidden(user: { username: string }, a: AccessAttributes, reason = ''): ApiError {
  const why = forbiddenMessage(user.username, a) + (reason ? `: ${reason}` : '');
  if (!a.resourceRequest) return new ApiError(403, 'Forbidden', `forbidden: ${why}`);
  const what = qualifiedResource(a.apiGroup, a.resource);
  const message = a.name ? `${what} "${a.name}" is forbidden: ${why}` : `${what} is forbidden: ${why}`;
  return new ApiError(403, 'Forbidden', message, { name: a.name, group: a.apiGroup || undefined, kind: a.resource });
}

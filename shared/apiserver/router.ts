/**
 * Routing: turns a method and a path into a RequestInfo, as Kubernetes' RequestInfoFactory does
 * (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go): `/api/v1/...` and
 * `/apis/<group>/<version>/...`, `namespaces/<ns>/<plural>[/<name>[/<subresource>]]`, and the
 * legacy `/watch/` prefix.
 */
import { findResource, type ResourceType } from '../api/resources.js';
import { badRequest, methodNotAllowed, resourceNotFound } from '../api/status.js';
import type { RequestInfo, Verb } from './context.js';
import { STREAM_SUBRESOURCES } from '../streams/gateway.js';

/** Namespace subresources that are not a resource inside the namespace (`namespaces/x/status`). */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

interface PathParts {
  group: string;
  version: string;
  rest: string[];
  legacyWatch: boolean;
}

/** decodeSegment decodes one path segment; a malformed escape (`%ZZ`) is 400, as Go's URL parser refuses it. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    const bad = /%(?![0-9A-Fa-f]{2})..?/.exec(segment)?.[0] ?? segment;
    throw badRequest(`invalid URL escape "${bad}"`);
  }
}

function splitPath(pathname: string): PathParts | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeSegment);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) [group, version, rest] = ['', parts[1], parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 3) [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
  else return undefined;
  const legacyWatch = rest[0] === 'watch';
  if (legacyWatch) rest = rest.slice(1);
  return { group, version, rest, legacyWatch };
}

function isWatchQuery(query: URLSearchParams): boolean {
  const w = query.get('watch');
  return w === 'true' || w === '1';
}

function verbFor(method: string, hasName: boolean, subresource: string | undefined, watch: boolean): Verb | undefined {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return hasName ? (watch ? 'watch' : 'get') : watch ? 'watch' : 'list';
    case 'POST':
      return !hasName || subresource ? 'create' : undefined;
    case 'PUT':
      return hasName ? 'update' : undefined;
    case 'PATCH':
      return hasName ? 'patch' : undefined;
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

/**
 * route resolves a request. It throws 404 NotFound (unknown path or resource) or 405
 * MethodNotAllowed (a verb the resource or subresource does not serve).
 */
export function route(method: string, url: URL): RequestInfo {
  const p = splitPath(url.pathname);
  if (!p || p.rest.length === 0) throw resourceNotFound();
  let rest = p.rest;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.has(rest[2])) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length > 3) throw resourceNotFound();
  const [plural, name, subresource] = rest;
  const resource = findResource(p.group, p.version, plural);
  if (!resource) throw resourceNotFound();
  if (!resource.namespaced && namespace !== undefined) throw resourceNotFound();
  if (resource.namespaced && namespace === undefined && name !== undefined) throw resourceNotFound();
  const sub = subresource === undefined ? undefined : resource.subresources.find((s) => s.name === subresource);
  if (subresource !== undefined && !sub) throw resourceNotFound();
  // A stream (exec, attach, portforward) is a `create` whichever method opened it: kubectl opens
  // WebSockets with GET, and upstream authorizes them as create (AuthorizePodWebsocketUpgradeCreatePermission).
  const stream = sub !== undefined && STREAM_SUBRESOURCES.has(sub.name) && (method === 'GET' || method === 'POST');
  const verb = stream ? 'create' : verbFor(method, name !== undefined, subresource, p.legacyWatch || isWatchQuery(url.searchParams));
  if (!verb || !allows(resource, sub?.verbs, verb)) throw methodNotAllowed();
  // Namespaced resources are written only inside a namespace; across namespaces they are read-only.
  if (resource.namespaced && namespace === undefined && verb !== 'list' && verb !== 'watch') throw methodNotAllowed();
  return { verb, resource, namespace, name, subresource };
}

function allows(resource: ResourceType, subVerbs: readonly string[] | undefined, verb: Verb): boolean {
  return (subVerbs ?? resource.verbs).includes(verb);
}

/**
 * Discovery and schemas: `/version`, `/api`, `/apis`, `/api/v1`, `/apis/<group>[/<version>]`, the
 * aggregated discovery (apidiscovery.k8s.io/v2) kubectl asks for first, `/openapi/v2` and
 * `/openapi/v3[/<path>]`. Every answer is derived from RESOURCES.
 */
import { RELEASE_VERSION } from '../release/version.js';
import { RESOURCES, groupVersion, type ResourceType } from '../api/resources.js';
import { openAPIV3Index, serializedDocument } from '../api/openapi/documents.js';
import { ApiError } from '../api/status.js';

/** DiscoveryOptions tunes what discovery reports. */
export interface DiscoveryOptions {
  /** The version `/version` reports (default {@link DEFAULT_GIT_VERSION}). */
  gitVersion?: string;
}

/** DEFAULT_GIT_VERSION is the Kubernetes version Coracle speaks, with its own suffix. */
export const DEFAULT_GIT_VERSION = RELEASE_VERSION;

const JSON_TYPE = 'application/json';
const DISCOVERY_GROUP = 'apidiscovery.k8s.io';

/** groups lists the named groups in the order Kubernetes would prefer them (table order). */
function namedGroups(): { name: string; versions: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const r of RESOURCES) {
    if (r.group === '') continue;
    const versions = groups.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    groups.set(r.group, versions);
  }
  return [...groups].map(([name, versions]) => ({ name, versions }));
}

function versionInfo(gitVersion: string): Record<string, unknown> {
  const [, major = '1', minor = '35'] = /^v(\d+)\.(\d+)/.exec(gitVersion) ?? [];
  return {
    major, minor, emulationMajor: major, emulationMinor: minor,
    minCompatibilityMajor: major, minCompatibilityMinor: String(Math.max(0, Number(minor) - 1)),
    gitVersion, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'node',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

function apiGroup(g: { name: string; versions: string[] }): Record<string, unknown> {
  const versions = g.versions.map((version) => ({ groupVersion: `${g.name}/${version}`, version }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

/** resourceList is the APIResourceList of one group version, subresources included. */
function resourceList(group: string, version: string): Record<string, unknown> | undefined {
  const served = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const r of served) {
    resources.push({
      name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
      ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources) {
      resources.push({
        name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced,
        ...(s.group !== r.group || s.version !== r.version ? { group: s.group, version: s.version } : {}),
        kind: s.kind, verbs: s.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

function discoveryResource(r: ResourceType): Record<string, unknown> {
  return {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    ...(r.subresources.length > 0 ? {
      subresources: r.subresources.map((s) => ({
        subresource: s.name, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: s.verbs,
      })),
    } : {}),
  };
}

/** aggregated is the APIGroupDiscoveryList of the core group (`legacy`) or of the named groups. */
function aggregated(legacy: boolean, discoveryVersion: string): Record<string, unknown> {
  const groups = legacy ? [{ name: '', versions: ['v1'] }] : namedGroups();
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `${DISCOVERY_GROUP}/${discoveryVersion}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.name, creationTimestamp: null },
      versions: g.versions.map((version) => ({
        version,
        resources: RESOURCES.filter((r) => r.group === g.name && r.version === version).map(discoveryResource),
        freshness: 'Current',
      })),
    })),
  };
}

/** MediaRange is one entry of an Accept header, with its parameters. */
interface MediaRange { type: string; params: Map<string, string> }

function parseAccept(accept: string | null): MediaRange[] {
  return (accept ?? '*/*').split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((p) => p.trim());
    return { type: type.toLowerCase(), params: new Map(params.map((p) => p.split('=').map((s) => s.trim()) as [string, string])) };
  });
}

/** aggregatedVersionAsked returns the apidiscovery version the Accept header asks for first, if any. */
function aggregatedVersionAsked(ranges: MediaRange[]): string | undefined {
  for (const range of ranges) {
    const wantsList = range.params.get('g') === DISCOVERY_GROUP && range.params.get('as') === 'APIGroupDiscoveryList';
    const version = range.params.get('v');
    if (wantsList && (range.type === JSON_TYPE || range.type === 'application/*') && (version === 'v2' || version === 'v2beta1')) return version;
    if (range.params.size === 0 && (range.type === JSON_TYPE || range.type === '*/*' || range.type === 'application/*')) return undefined;
  }
  return undefined;
}

function acceptsJson(ranges: MediaRange[]): boolean {
  return ranges.some((r) => (r.type === JSON_TYPE || r.type === '*/*' || r.type === 'application/*') && !r.params.has('g'));
}

function json(body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status: 200, headers: { 'Content-Type': JSON_TYPE, ...headers },
  });
}

function failure(error: ApiError): Response {
  return new Response(JSON.stringify(error.toStatus()), { status: error.code, headers: { 'Content-Type': JSON_TYPE } });
}

function discoveryList(request: Request, legacy: boolean, fallback: () => unknown): Response {
  const ranges = parseAccept(request.headers.get('accept'));
  const version = aggregatedVersionAsked(ranges);
  if (version) {
    return json(aggregated(legacy, version), {
      'Content-Type': `${JSON_TYPE};g=${DISCOVERY_GROUP};v=${version};as=APIGroupDiscoveryList`, Vary: 'Accept',
    });
  }
  return json(fallback(), { Vary: 'Accept' });
}

function serveOpenAPI(request: Request, url: URL): Response | undefined {
  const ranges = parseAccept(request.headers.get('accept'));
  // Kubernetes also speaks protobuf here; clients that ask for it list JSON as a fallback or retry with it.
  const notAcceptable = (): Response => failure(new ApiError(406, 'NotAcceptable', 'only application/json is served for OpenAPI documents'));
  if (url.pathname === '/openapi/v2') {
    if (!acceptsJson(ranges)) return notAcceptable();
    return json(serializedDocument('v2')!.body);
  }
  if (url.pathname === '/openapi/v3' || url.pathname === '/openapi/v3/') return json(openAPIV3Index());
  if (!url.pathname.startsWith('/openapi/v3/')) return undefined;
  const doc = serializedDocument(url.pathname.slice('/openapi/v3/'.length));
  if (!doc) return failure(new ApiError(404, 'NotFound', `the OpenAPI document ${url.pathname} is not served`));
  if (!acceptsJson(ranges)) return notAcceptable();
  const hash = url.searchParams.get('hash');
  if (hash && hash !== doc.hash) {
    // A stale hash: send the client to the current document, as Kubernetes does.
    return new Response(null, { status: 301, headers: { Location: `${url.pathname}?hash=${doc.hash}` } });
  }
  const caching = hash ? 'public, immutable' : 'no-cache, private';
  return json(doc.body, { 'Cache-Control': caching, Etag: `"${doc.hash}"` });
}

/**
 * serveDiscovery answers the discovery and OpenAPI endpoints; it returns undefined for any other
 * path so the caller can route on. It does not authenticate: call it after authentication.
 */
export async function serveDiscovery(request: Request, url: URL, options: DiscoveryOptions = {}): Promise<Response | undefined> {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path.startsWith('/openapi/')) return serveOpenAPI(request, url);
  const isDiscoveryPath = /^\/(version|api|apis|api\/v1|apis\/[^/]+(\/[^/]+)?)$/.test(path);
  if (!isDiscoveryPath) return undefined;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return failure(new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  }
  if (path === '/version') return json(versionInfo(options.gitVersion ?? DEFAULT_GIT_VERSION));
  if (path === '/api') {
    return discoveryList(request, true, () => ({
      kind: 'APIVersions', versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: url.host }],
    }));
  }
  if (path === '/apis') {
    return discoveryList(request, false, () => ({ kind: 'APIGroupList', apiVersion: 'v1', groups: namedGroups().map(apiGroup) }));
  }
  if (path === '/api/v1') return json(resourceList('', 'v1'));
  const named = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (!named) return undefined;
  const [, group = '', version] = named;
  const g = namedGroups().find((x) => x.name === group);
  if (!g) return failure(new ApiError(404, 'NotFound', 'the server could not find the requested resource'));
  if (version === undefined) return json({ kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) });
  const list = resourceList(group, version);
  return list ? json(list) : failure(new ApiError(404, 'NotFound', 'the server could not find the requested resource'));
}

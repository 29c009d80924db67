/**
 * The OpenAPI documents the API server publishes: `/openapi/v2` (Swagger 2.0, every definition)
 * and `/openapi/v3/<api|apis>/<group>/<version>` (OpenAPI 3.0, one group version each, with the
 * paths kubectl reads to learn that PATCH takes `fieldValidation`). Built once, then cached.
 */
import { createHash } from 'node:crypto';
import { DEFINITIONS, definitionName, reachableDefinitions, type Schema } from './definitions.js';
import { RESOURCES, groupVersion, type ResourceType } from '../resources.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const INFO = { title: 'Kubernetes', version: 'v1.35.0' };

/** render rewrites bare `$ref` names as document references (`#/definitions/…` or `#/components/schemas/…`). */
function render(schema: Schema, prefix: string, v3: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref') continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, render(v, prefix, v3)]));
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = render(value as Schema, prefix, v3);
    } else {
      out[key] = value;
    }
  }
  if (schema.$ref) {
    // OpenAPI 3 forbids siblings of $ref, so Kubernetes wraps a described reference in allOf.
    if (v3 && Object.keys(out).length > 0) out.allOf = [{ $ref: prefix + schema.$ref }];
    else out.$ref = prefix + schema.$ref;
  }
  return out;
}

/**
 * In OpenAPI 3 Kubernetes spells its two union scalars with oneOf (their OpenAPIV3OneOfTypes) and no
 * `type`, which is also how `kubectl explain` comes to print `<IntOrString>` and `<Quantity>`.
 */
const V3_ONE_OF: Readonly<Record<string, readonly string[]>> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': ['integer', 'string'],
  'io.k8s.apimachinery.pkg.api.resource.Quantity': ['string', 'number'],
};

function definitionsOf(names: Iterable<string>, prefix: string, v3: boolean): Record<string, unknown> {
  return Object.fromEntries([...names].map((n) => {
    const schema = DEFINITIONS.get(n)!;
    const oneOf = v3 ? V3_ONE_OF[n] : undefined;
    if (!oneOf) return [n, render(schema, prefix, v3)];
    const { type: _type, ...rest } = schema;
    return [n, { ...render(rest, prefix, v3), oneOf: oneOf.map((type) => ({ type })) }];
  }));
}

/** openAPIV2 is the Swagger 2.0 document of every served definition. */
export function openAPIV2(): Record<string, unknown> {
  return { swagger: '2.0', info: INFO, paths: {}, definitions: definitionsOf([...DEFINITIONS.keys()].sort(), '#/definitions/', false) };
}

/** openAPIV3Path is the index key of a group version: `api/v1` or `apis/<group>/<version>`. */
export function openAPIV3Path(r: { group: string; version: string }): string {
  return r.group === '' ? `api/${r.version}` : `apis/${r.group}/${r.version}`;
}

const queryParam = (name: string, type: 'string' | 'boolean' | 'integer', description: string): Record<string, unknown> =>
  ({ name, in: 'query', description, schema: { type, uniqueItems: true } });
const WRITE_PARAMS = [
  queryParam('dryRun', 'string', 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed'),
  queryParam('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  queryParam('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.'),
];
const LIST_PARAMS = ['labelSelector', 'fieldSelector', 'continue', 'resourceVersion']
  .map((p) => queryParam(p, 'string', `${p} of the list or watch.`))
  .concat([queryParam('limit', 'integer', 'limit is the maximum number of responses to return.'), queryParam('watch', 'boolean', 'Watch for changes.')]);

function operation(r: ResourceType, action: string, id: string, response: string, params: Record<string, unknown>[], body?: string): Record<string, unknown> {
  const ref = (name: string): Record<string, unknown> => ({ $ref: `#/components/schemas/${name}` });
  const content = (name: string): Record<string, unknown> => ({ 'application/json': { schema: ref(name) }, 'application/yaml': { schema: ref(name) } });
  return {
    description: `${action} ${r.kind}`,
    operationId: id,
    parameters: params,
    ...(body ? { requestBody: { content: content(body), required: true } } : {}),
    responses: { '200': { description: 'OK', content: content(response) }, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
  };
}

function resourcePaths(r: ResourceType): Record<string, unknown> {
  const base = `/${openAPIV3Path(r)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
  const def = definitionName(r.group, r.version, r.kind);
  const list = definitionName(r.group, r.version, r.listKind);
  const id = (verb: string): string => `${verb}${r.namespaced ? 'Namespaced' : ''}${r.kind}`;
  const pathParams = (withName: boolean): Record<string, unknown>[] => [
    ...(withName ? [{ name: 'name', in: 'path', required: true, description: `name of the ${r.kind}`, schema: { type: 'string' } }] : []),
    ...(r.namespaced ? [{ name: 'namespace', in: 'path', required: true, description: 'object name and auth scope', schema: { type: 'string' } }] : []),
  ];
  const patchBody = META + 'Patch';
  // A create-only kind without a list type (the access reviews) is served at POST alone, as upstream's spec lists it.
  if (!DEFINITIONS.has(list)) return { [base]: { post: operation(r, 'post', id('create'), def, WRITE_PARAMS, def), parameters: pathParams(false) } };
  return {
    [base]: {
      get: operation(r, 'list', id('list'), list, LIST_PARAMS),
      post: operation(r, 'post', id('create'), def, WRITE_PARAMS, def),
      delete: operation(r, 'deletecollection', id('deleteCollection'), META + 'Status', LIST_PARAMS),
      parameters: pathParams(false),
    },
    [`${base}/{name}`]: {
      get: operation(r, 'get', id('read'), def, []),
      put: operation(r, 'put', id('replace'), def, WRITE_PARAMS, def),
      patch: operation(r, 'patch', id('patch'), def, [...WRITE_PARAMS, queryParam('force', 'boolean', 'Force is going to "force" Apply requests.')], patchBody),
      delete: operation(r, 'delete', id('delete'), META + 'Status', WRITE_PARAMS.slice(0, 1), META + 'DeleteOptions'),
      parameters: pathParams(true),
    },
  };
}

/** openAPIV3 is the OpenAPI 3.0 document of one group version; undefined if none is served at `path`. */
export function openAPIV3(path: string): Record<string, unknown> | undefined {
  const resources = RESOURCES.filter((r) => openAPIV3Path(r) === path);
  if (resources.length === 0) return undefined;
  const roots = new Set<string>([META + 'Status', META + 'DeleteOptions', META + 'WatchEvent', META + 'Patch']);
  for (const r of resources) {
    roots.add(definitionName(r.group, r.version, r.kind));
    if (DEFINITIONS.has(definitionName(r.group, r.version, r.listKind))) roots.add(definitionName(r.group, r.version, r.listKind));
    for (const s of r.subresources) roots.add(definitionName(s.group, s.version, s.kind));
  }
  return {
    openapi: '3.0.0',
    info: INFO,
    paths: Object.assign({}, ...resources.map(resourcePaths)) as Record<string, unknown>,
    components: {
      schemas: definitionsOf(reachableDefinitions(roots), '#/components/schemas/', true),
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

/** SerializedDocument is a document's JSON text and the hash that names it. */
export interface SerializedDocument {
  body: string;
  /** Upper-case hex SHA-512 of `body`, as Kubernetes names OpenAPI v3 documents. */
  hash: string;
}

const cache = new Map<string, SerializedDocument | undefined>();

/** serializedDocument returns a cached document: `v2` or a v3 index key such as `apis/apps/v1`. */
export function serializedDocument(key: string): SerializedDocument | undefined {
  if (!cache.has(key)) {
    const doc = key === 'v2' ? openAPIV2() : openAPIV3(key);
    if (!doc) {
      cache.set(key, undefined);
    } else {
      const body = JSON.stringify(doc);
      cache.set(key, { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() });
    }
  }
  return cache.get(key);
}

/** openAPIV3Index is the `/openapi/v3` discovery document: one hashed URL per served group version. */
export function openAPIV3Index(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const r of new Map(RESOURCES.map((r) => [groupVersion(r), r])).values()) {
    const key = openAPIV3Path(r);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${serializedDocument(key)!.hash}` };
  }
  return { paths };
}

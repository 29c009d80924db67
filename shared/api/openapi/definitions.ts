/**
 * The OpenAPI definitions of the served kinds: generated data (`data/definitions.json`, see
 * scripts/gen-openapi.ts) with Kubernetes' list semantics (`list-semantics.ts`) laid over it.
 * Every OpenAPI document, field check and patch lookup reads these.
 */
import generated from './data/definitions.json' with { type: 'json' };
import { ATOMIC_STRUCTS, LIST_SEMANTICS } from './list-semantics.js';
import { RESOURCES, groupVersion } from '../resources.js';
import { CORACLE_DEFINITIONS } from './coracle.js';
import { METRICS_DEFINITIONS } from './metrics.js';
import { STREAM_DEFINITIONS } from './streams.js';

/**
 * Schema is one definition or property in the neutral form the generator writes: JSON Schema as
 * Kubernetes uses it, with `$ref` holding a bare definition name (documents add their own prefix).
 */
export interface Schema {
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  enum?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  required?: string[];
  $ref?: string;
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: readonly string[];
  'x-kubernetes-map-type'?: string;
}

/** GroupVersionKind as OpenAPI's `x-kubernetes-group-version-kind` spells it. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

/** definitionName names the definition of a kind of `group`/`version` (`io.k8s.api.apps.v1.Deployment`). */
export function definitionName(group: string, version: string, kind: string): string {
  return `io.k8s.api.${group === '' ? 'core' : group.split('.')[0]}.${version}.${kind}`;
}

function kindsOfDefinitions(): Map<string, GroupVersionKind[]> {
  const gvks = new Map<string, GroupVersionKind[]>();
  const add = (name: string, gvk: GroupVersionKind): void => {
    const list = gvks.get(name) ?? [];
    if (!list.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) list.push(gvk);
    gvks.set(name, list);
  };
  for (const r of RESOURCES) {
    add(definitionName(r.group, r.version, r.kind), { group: r.group, version: r.version, kind: r.kind });
    add(definitionName(r.group, r.version, r.listKind), { group: r.group, version: r.version, kind: r.listKind });
    for (const s of r.subresources) add(definitionName(s.group, s.version, s.kind), { group: s.group, version: s.version, kind: s.kind });
  }
  // Meta kinds are served in every group version, as Kubernetes' spec lists them.
  const versions = [...new Map(RESOURCES.map((r) => [groupVersion(r), r])).values()];
  for (const kind of ['DeleteOptions', 'WatchEvent']) {
    for (const r of versions) add(META + kind, { group: r.group, version: r.version, kind });
  }
  add(META + 'Status', { group: '', version: 'v1', kind: 'Status' });
  return gvks;
}

function annotate(): ReadonlyMap<string, Schema> {
  const source = { ...(generated as { definitions: Record<string, Schema> }).definitions, ...CORACLE_DEFINITIONS, ...METRICS_DEFINITIONS, ...STREAM_DEFINITIONS };
  const gvks = kindsOfDefinitions();
  const out = new Map<string, Schema>();
  for (const [name, original] of Object.entries(source)) {
    const schema: Schema = structuredClone(original);
    const semantics = LIST_SEMANTICS[name] ?? {};
    for (const [field, meaning] of Object.entries(semantics)) {
      const property = schema.properties?.[field];
      if (!property) throw new Error(`list-semantics names ${name}.${field}, which the schema lacks`);
      if (meaning.patchStrategy) property['x-kubernetes-patch-strategy'] = meaning.patchStrategy;
      if (meaning.patchMergeKey) property['x-kubernetes-patch-merge-key'] = meaning.patchMergeKey;
      if (meaning.listType) property['x-kubernetes-list-type'] = meaning.listType;
      if (meaning.listMapKeys) property['x-kubernetes-list-map-keys'] = meaning.listMapKeys;
    }
    if (ATOMIC_STRUCTS.has(name)) schema['x-kubernetes-map-type'] = 'atomic';
    const kinds = gvks.get(name);
    if (kinds) schema['x-kubernetes-group-version-kind'] = kinds;
    out.set(name, schema);
  }
  return out;
}

/** DEFINITIONS maps each definition name to its schema (with list semantics and GVKs). Read-only. */
export const DEFINITIONS: ReadonlyMap<string, Schema> = annotate();

/** definitionForKind finds the definition of `apiVersion`/`kind`; undefined if none is served. */
export function definitionForKind(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') as [string, string] : ['', apiVersion];
  const name = definitionName(group, version, kind);
  const schema = DEFINITIONS.get(name);
  if (schema?.['x-kubernetes-group-version-kind']?.some((g) => g.group === group && g.version === version && g.kind === kind)) return name;
  return undefined;
}

/** resolveRef follows a property's `$ref` (once) to the definition it names. */
export function resolveRef(schema: Schema): Schema {
  return schema.$ref ? DEFINITIONS.get(schema.$ref) ?? {} : schema;
}

/** reachableDefinitions lists the definitions `roots` reference, transitively, roots included. */
export function reachableDefinitions(roots: Iterable<string>): string[] {
  const seen = new Set<string>();
  const visit = (schema: Schema | undefined): void => {
    if (!schema) return;
    if (schema.$ref && !seen.has(schema.$ref)) {
      seen.add(schema.$ref);
      visit(DEFINITIONS.get(schema.$ref));
    }
    for (const p of Object.values(schema.properties ?? {})) visit(p);
    visit(schema.items);
    visit(schema.additionalProperties);
  };
  for (const root of roots) visit({ $ref: root });
  return [...seen].sort();
}

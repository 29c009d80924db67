/**
 * Patch metadata: what strategic merge patch and server-side apply need to know about each field
 * of a kind (Kubernetes' `patchMergeKey` / `patchStrategy` struct tags and `+listType`,
 * `+listMapKey`, `+mapType` markers, published in OpenAPI as `x-kubernetes-*` extensions).
 *
 * The patch engine only reads the {@link PatchMeta} interface. `patchMetaFor` builds it from the
 * served OpenAPI definitions (shared/api/openapi/definitions.ts); a schema module that prefers to
 * hand over its own walkable structure only has to satisfy this interface.
 */
import { DEFINITIONS, definitionForKind, resolveRef, type Schema } from '../openapi/definitions.js';

/**
 * PatchMeta describes one field (or the root object) of a kind.
 *
 * - For an object, `field(name)` describes its property `name` (for a map with arbitrary keys,
 *   such as `labels`, every key gives the value's metadata).
 * - For a list, the list-level properties below describe the list, and `field(name)` describes the
 *   fields of its elements (lists are transparent, as in Kubernetes' `LookupPatchMetadata`).
 * - `undefined` anywhere means "unknown": strategic merge patch then replaces lists and merges maps;
 *   server-side apply treats lists as atomic and maps as granular (Kubernetes' deduced schema).
 */
export interface PatchMeta {
  /** field returns the metadata of the child field `name`, or undefined when nothing is known. */
  field(name: string): PatchMeta | undefined;
  /** `x-kubernetes-patch-strategy`: `merge`, `replace`, `retainKeys` or `merge,retainKeys`. */
  readonly patchStrategy?: string;
  /** `x-kubernetes-patch-merge-key`: the element field that identifies a list element. */
  readonly patchMergeKey?: string;
  /** `x-kubernetes-list-type` (server-side apply); absent means atomic. */
  readonly listType?: 'atomic' | 'set' | 'map';
  /** `x-kubernetes-list-map-keys` (listType map). */
  readonly listMapKeys?: readonly string[];
  /** `x-kubernetes-map-type`: `atomic` structs are owned as a whole by server-side apply. */
  readonly mapType?: 'atomic' | 'granular';
  /**
   * True when this object is a map with arbitrary keys (`additionalProperties`, e.g. `labels`),
   * false or absent for a struct with declared properties. Apply owns each map entry as a unit.
   */
  readonly openKeys?: boolean;
  /** Defaults of list-map key fields (Kubernetes defaults `ports[].protocol` to TCP in the key). */
  readonly keyDefaults?: Readonly<Record<string, unknown>>;
}

/** hasStrategy tells whether a comma-separated `patchStrategy` includes `strategy`. */
export function hasStrategy(meta: PatchMeta | undefined, strategy: string): boolean {
  return (meta?.patchStrategy ?? '').split(',').includes(strategy);
}

/** childMeta is `meta?.field(name)`, tolerating an unknown parent. */
export function childMeta(meta: PatchMeta | undefined, name: string): PatchMeta | undefined {
  return meta?.field(name);
}

// Kubernetes' OpenAPI gives `protocol` a default of TCP for both port lists; server-side apply uses
// it when an applied port omits the key field (structured-merge-diff getAssociativeKeyDefault).
const KEY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

const cache = new WeakMap<Schema, PatchMeta>();

/** patchMetaFromSchema adapts an OpenAPI property (with its extensions) to PatchMeta. */
export function patchMetaFromSchema(property: Schema): PatchMeta {
  const known = cache.get(property);
  if (known) return known;
  const element = property.type === 'array' || property.items ? property.items ?? {} : property;
  const definitionName = element.$ref;
  const body = resolveRef(element);
  const listType = property['x-kubernetes-list-type'] as PatchMeta['listType'];
  const mapType = (body['x-kubernetes-map-type'] ?? property['x-kubernetes-map-type']) as PatchMeta['mapType'];
  const meta: PatchMeta = {
    field(name: string): PatchMeta | undefined {
      const declared = body.properties && Object.hasOwn(body.properties, name) ? body.properties[name] : undefined;
      const child = declared ?? body.additionalProperties;
      return child ? patchMetaFromSchema(child) : undefined;
    },
    ...(property['x-kubernetes-patch-strategy'] ? { patchStrategy: property['x-kubernetes-patch-strategy'] } : {}),
    ...(property['x-kubernetes-patch-merge-key'] ? { patchMergeKey: property['x-kubernetes-patch-merge-key'] } : {}),
    ...(listType ? { listType } : {}),
    ...(property['x-kubernetes-list-map-keys'] ? { listMapKeys: property['x-kubernetes-list-map-keys'] } : {}),
    ...(mapType ? { mapType } : {}),
    ...(body.additionalProperties && !body.properties ? { openKeys: true } : {}),
    ...(definitionName && KEY_DEFAULTS[definitionName] ? { keyDefaults: KEY_DEFAULTS[definitionName] } : {}),
  };
  cache.set(property, meta);
  return meta;
}

/**
 * patchMetaFor returns the metadata of the root of `apiVersion`/`kind`, or undefined for a kind
 * that is not served (the engine then falls back to schema-less behaviour).
 */
export function patchMetaFor(apiVersion: string, kind: string): PatchMeta | undefined {
  const name = definitionForKind(apiVersion, kind);
  const root = name ? DEFINITIONS.get(name) : undefined;
  return root ? patchMetaFromSchema(root) : undefined;
}

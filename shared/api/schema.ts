/**
 * Schema questions the API server asks about an object of a served kind: which fields the schema
 * does not define (for `fieldValidation=Strict|Warn`), and how strategic merge patch treats each
 * field (`patchMeta`). Both read the OpenAPI definitions in `openapi/definitions.ts`.
 */
import { DEFINITIONS, definitionForKind, resolveRef, type Schema } from './openapi/definitions.js';

/**
 * unknownFields lists the fields of `obj` that the schema of `apiVersion`/`kind` does not define,
 * as Kubernetes names them in strict decoding errors: `spec.foo`, `spec.containers[0].bar`,
 * `metadata.bogus`. Map keys (labels, data) are free; so are the contents of untyped fields
 * (RawExtension, FieldsV1). Values of the wrong type are not reported (validation's job). An
 * unserved kind yields [] (nothing can be said).
 */
export function unknownFields(apiVersion: string, kind: string, obj: unknown): string[] {
  const name = definitionForKind(apiVersion, kind);
  if (!name) return [];
  const found: string[] = [];
  walkUnknown(DEFINITIONS.get(name)!, obj, '', found);
  return found;
}

function walkUnknown(schema: Schema, value: unknown, path: string, found: string[]): void {
  const s = resolveRef(schema);
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    if (s.items) value.forEach((item, i) => walkUnknown(s.items!, item, `${path}[${i}]`, found));
    return;
  }
  if (typeof value !== 'object') return;
  const entries = Object.entries(value as Record<string, unknown>);
  if (s.properties) {
    for (const [key, child] of entries) {
      const next = path === '' ? key : `${path}.${key}`;
      const property = s.properties[key];
      if (property) walkUnknown(property, child, next, found);
      else found.push(next);
    }
  } else if (s.additionalProperties) {
    for (const [key, child] of entries) walkUnknown(s.additionalProperties, child, `${path}.${key}`, found);
  }
}

/** PatchStrategy is one of the comma-separated values of `x-kubernetes-patch-strategy`. */
export type PatchStrategy = 'merge' | 'retainKeys' | 'replace';

/**
 * PatchMeta describes one point of an object for strategic merge patch, like Go's
 * `strategicpatch.LookupPatchMeta`. Walk it from the root (`patchMeta(apiVersion, kind)`) with
 * `field(name)` for object keys and `items` for list elements, or `lookup(['spec', 'containers'])`.
 *
 * How to merge, by `type`:
 * - `struct`: an object with known fields; merge key by key, recursing with `field(key)`.
 *   `patchStrategies` containing `retainKeys` (e.g. Deployment `spec.strategy`) means fields absent
 *   from the patch's `$retainKeys` list are cleared.
 * - `map`: an object with free keys (labels, ConfigMap data, resources.limits); merge key by key,
 *   every value described by `field(anyKey)`.
 * - `list`: an array. If `patchStrategies` includes `merge`, merge items by `patchMergeKey` (lists of
 *   objects: e.g. containers by `name`, ports by `containerPort`) or as a set of scalars when there
 *   is no merge key (finalizers); `retainKeys` also applies to each item (PodSpec `volumes`).
 *   Otherwise (no strategy, or `replace`) the patch's list replaces the whole list.
 * - `scalar`: replace the value.
 * - `unknown`: no schema here (an unknown field, RawExtension, FieldsV1): apply as JSON merge patch.
 *
 * `listType`/`listMapKeys` are server-side apply's view of the same list (`atomic`, `set`, `map`).
 * `atomic` is true for structs/maps Kubernetes marks `x-kubernetes-map-type: atomic` (LabelSelector)
 * and for lists whose listType is atomic: apply owns them whole.
 */
export interface PatchMeta {
  readonly type: 'struct' | 'map' | 'list' | 'scalar' | 'unknown';
  readonly patchStrategies: readonly PatchStrategy[];
  readonly patchMergeKey?: string;
  readonly listType?: 'atomic' | 'set' | 'map';
  readonly listMapKeys?: readonly string[];
  readonly atomic: boolean;
  /** The element of a list; undefined for anything else. */
  readonly items: PatchMeta | undefined;
  /** The value under key `name` of a struct or map; `unknown` when there is none. */
  field(name: string): PatchMeta;
  /** Walks field names from here; list levels are stepped through (`['spec','containers','ports']`). */
  lookup(path: readonly string[]): PatchMeta;
}

class SchemaPatchMeta implements PatchMeta {
  readonly type: PatchMeta['type'];
  readonly patchStrategies: readonly PatchStrategy[];
  readonly patchMergeKey?: string;
  readonly listType?: 'atomic' | 'set' | 'map';
  readonly listMapKeys?: readonly string[];
  readonly atomic: boolean;
  private readonly resolved: Schema;
  private readonly children = new Map<string, PatchMeta>();
  private itemMeta: PatchMeta | undefined;

  /** `at` carries the field's own annotations; `$ref` is resolved for the structure. */
  constructor(at: Schema | undefined) {
    const schema = at ? resolveRef(at) : undefined;
    this.resolved = schema ?? {};
    this.patchStrategies = (at?.['x-kubernetes-patch-strategy'] ?? '').split(',').filter(Boolean) as PatchStrategy[];
    this.patchMergeKey = at?.['x-kubernetes-patch-merge-key'];
    this.listType = at?.['x-kubernetes-list-type'] as PatchMeta['listType'];
    this.listMapKeys = at?.['x-kubernetes-list-map-keys'];
    if (!schema) this.type = 'unknown';
    else if (schema.type === 'array') this.type = 'list';
    else if (schema.properties) this.type = 'struct';
    else if (schema.additionalProperties) this.type = 'map';
    else if (schema.type === 'object') this.type = 'unknown';
    else this.type = 'scalar';
    this.atomic = schema?.['x-kubernetes-map-type'] === 'atomic' || (this.type === 'list' && this.listType === 'atomic');
  }

  get items(): PatchMeta | undefined {
    if (this.type !== 'list') return undefined;
    this.itemMeta ??= new SchemaPatchMeta(this.resolved.items);
    return this.itemMeta;
  }

  field(name: string): PatchMeta {
    let child = this.children.get(name);
    if (!child) {
      const schema = this.type === 'struct' ? this.resolved.properties?.[name]
        : this.type === 'map' ? this.resolved.additionalProperties : undefined;
      child = new SchemaPatchMeta(schema);
      this.children.set(name, child);
    }
    return child;
  }

  lookup(path: readonly string[]): PatchMeta {
    return path.reduce<PatchMeta>((at, name) => {
      let item = at;
      while (item.type === 'list') item = item.items!;
      return item.field(name);
    }, this);
  }
}

const roots = new Map<string, PatchMeta>();

/**
 * patchMeta returns the root PatchMeta of `apiVersion`/`kind` (a `struct`), or an `unknown` one when
 * the kind is not served (patch it as JSON merge patch). Results are cached and immutable.
 */
export function patchMeta(apiVersion: string, kind: string): PatchMeta {
  const key = `${apiVersion}/${kind}`;
  let meta = roots.get(key);
  if (!meta) {
    const name = definitionForKind(apiVersion, kind);
    meta = new SchemaPatchMeta(name ? { $ref: name } : undefined);
    roots.set(key, meta);
  }
  return meta;
}

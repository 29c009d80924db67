/**
 * Schema questions the API server asks about an object of a served kind: which fields the schema
 * does not define (for `fieldValidation=Strict|Warn`). How patches treat each field is answered by
 * `patch/meta.ts` (`patchMetaFor`), from the same OpenAPI definitions in `openapi/definitions.ts`.
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

/**
 * What kube-apiserver's JSON decoder refuses before validation ever runs: a number that does not
 * fit the Go type of its field (`spec.replicas` of 1.5, 2^31 or 1e12 into an int32), a value of
 * the wrong JSON type for its field (an object as a ConfigMap's data value, a string as an
 * integer), and a quantity string ParseQuantity cannot read. The schema is the served OpenAPI definitions; the message is Go's
 * (`json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type
 * int32`), which the API server wraps as `<Kind> in version "<v>" cannot be handled as a <Kind>:`.
 */
import { DEFINITIONS, definitionForKind, type Schema } from './openapi/definitions.js';

const QUANTITY_REF = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
/** QUANTITY_SYNTAX is the error Kubernetes' Quantity.UnmarshalJSON returns for a malformed quantity. */
export const QUANTITY_SYNTAX = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
// k8s.io/apimachinery/pkg/api/resource: a signed decimal, then a suffix (SI, binary, or an exponent).
const QUANTITY = /^[+-]?(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

const RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
};

interface Frame {
  schema: Schema;
  /** The Go struct holding this value (the last definition name's tail), and the JSON path under the root. */
  struct: string;
  path: string[];
  value: unknown;
}

const jsonType = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v);
const goType = (s: Schema): string => (s.type === 'integer' ? s.format ?? 'int' : s.type === 'number' ? 'float64' : s.type === 'boolean' ? 'bool' : s.type ?? 'value');

/** integerProblem says why `n` is not an integer of `format` (undefined: it is). */
function integerProblem(n: number, format: string | undefined): boolean {
  if (!Number.isFinite(n) || !Number.isInteger(n)) return true;
  const [min, max] = RANGES[format ?? 'int64'] ?? RANGES.int64;
  const big = BigInt(n);
  return big < min || big > max;
}

function leafError(f: Frame): string | undefined {
  const s = f.schema;
  const v = f.value;
  if (v === null || v === undefined) return undefined;
  const where = `Go struct field ${f.struct}.${f.path.join('.')}`;
  if (s.type === 'integer' && s.format !== 'int-or-string') {
    if (typeof v !== 'number') return `json: cannot unmarshal ${jsonType(v)} into ${where} of type ${goType(s)}`;
    if (integerProblem(v, s.format)) return `json: cannot unmarshal number ${String(v)} into ${where} of type ${goType(s)}`;
  } else if (s.type === 'number' && typeof v !== 'number') {
    return `json: cannot unmarshal ${jsonType(v)} into ${where} of type ${goType(s)}`;
  } else if (s.type === 'boolean' && typeof v !== 'boolean') {
    return `json: cannot unmarshal ${jsonType(v)} into ${where} of type bool`;
  } else if (s.type === 'string' && s.format === 'int-or-string') {
    if (typeof v !== 'string' && typeof v !== 'number') return `json: cannot unmarshal ${jsonType(v)} into ${where} of type intstr.IntOrString`;
  } else if (s.type === 'string' && typeof v !== 'string') {
    return `json: cannot unmarshal ${jsonType(v)} into ${where} of type string`;
  } else if (s.type === 'array' && !Array.isArray(v)) {
    return `json: cannot unmarshal ${jsonType(v)} into ${where} of type []${s.items?.$ref ? s.items.$ref.slice(s.items.$ref.lastIndexOf('.') + 1) : s.items?.type ?? 'interface {}'}`;
  } else if ((s.type === 'object' || s.properties || s.additionalProperties) && jsonType(v) !== 'object') {
    return `json: cannot unmarshal ${jsonType(v)} into ${where} of type ${s.properties ? `v1.${f.struct}` : 'map[string]string'}`;
  }
  return undefined;
}

function quantityError(v: unknown): string | undefined {
  if (v === null || v === undefined || typeof v === 'number') return undefined;
  if (typeof v !== 'string' || !QUANTITY.test(v.trim())) return QUANTITY_SYNTAX;
  return undefined;
}

/**
 * decodeError returns the first error Kubernetes' decoder would report for `obj` as
 * `apiVersion`/`kind` (Go's wording), or undefined when it decodes. Unserved kinds decode. The
 * walk is iterative (a body's depth is bounded earlier, but nothing here recurses).
 */
export function decodeError(apiVersion: string, kind: string, obj: unknown): string | undefined {
  const root = definitionForKind(apiVersion, kind);
  if (!root) return undefined;
  const stack: Frame[] = [{ schema: DEFINITIONS.get(root)!, struct: kind, path: [], value: obj }];
  while (stack.length > 0) {
    const f = stack.pop()!;
    let { schema, struct } = f;
    if (schema.$ref === QUANTITY_REF) {
      const q = quantityError(f.value);
      if (q) return q;
      continue;
    }
    if (schema.$ref) {
      struct = schema.$ref.slice(schema.$ref.lastIndexOf('.') + 1);
      schema = DEFINITIONS.get(schema.$ref) ?? {};
    }
    const leaf = leafError({ ...f, schema, struct });
    if (leaf) return leaf;
    const v = f.value;
    if (Array.isArray(v)) {
      if (schema.items) for (let i = v.length - 1; i >= 0; i--) stack.push({ schema: schema.items, struct, path: f.path, value: v[i] });
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        const declared = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
        const childSchema = declared ?? schema.additionalProperties;
        if (childSchema) stack.push({ schema: childSchema, struct, path: declared ? [...f.path, key] : f.path, value: child });
      }
    }
  }
  return undefined;
}

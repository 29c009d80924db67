/**
 * `fieldValidation=Strict|Warn|Ignore`: unknown and duplicate fields in a body fail the request
 * (Strict, 400 "strict decoding error"), come back as `Warning` headers (Warn, the server's
 * default), or pass silently (Ignore). Unknown fields are always dropped, as decoding into
 * Kubernetes' typed structs drops them.
 */
import { ApiError, badRequest } from '../api/status.js';
import { isRecord, type KubeObject } from '../api/objects.js';
import type { Peers } from './peers.js';

/** FieldValidation is the directive from the query. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** parseFieldValidation reads `fieldValidation` (default Warn); other values are 400. */
export function parseFieldValidation(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation') ?? 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw new ApiError(400, 'BadRequest', `fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

/** pathSegments splits `spec.containers[0].foo` into ['spec', 'containers', 0, 'foo']. */
function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/** dropField removes the field at `path` from `obj` in place (no-op if absent). */
export function dropField(obj: unknown, path: string): void {
  const segs = pathSegments(path);
  // A key holding '.', '[' or nothing makes the path ambiguous (`metadata.` for a key "" under
  // metadata): leave such a field rather than drop the wrong one.
  const canonical = segs.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
  if (canonical !== path || segs.length === 0) return;
  let cur: unknown = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i];
    cur = typeof s === 'number' ? (Array.isArray(cur) ? cur[s] : undefined) : isRecord(cur) && Object.hasOwn(cur, s) ? cur[s] : undefined;
    if (cur === undefined) return;
  }
  const last = segs[segs.length - 1];
  if (isRecord(cur) && typeof last === 'string') delete cur[last];
}

/**
 * checkFields applies the directive to a decoded body: it throws 400 under Strict, returns the
 * warnings to send under Warn, and prunes unknown fields from `obj` in every mode.
 */
export function checkFields(
  mode: FieldValidation, peers: Peers, obj: KubeObject, duplicates: readonly string[],
): string[] {
  const apiVersion = String(obj.apiVersion ?? '');
  const kind = String(obj.kind ?? '');
  const unknown = peers.unknownFields ? peers.unknownFields(apiVersion, kind, obj) : [];
  const problems = [...unknown.map((f) => `unknown field "${f}"`), ...duplicates.map((f) => `duplicate field "${f}"`)];
  for (const f of unknown) dropField(obj, f);
  if (problems.length === 0 || mode === 'Ignore') return [];
  if (mode === 'Strict') throw badRequest(`strict decoding error: ${problems.join(', ')}`);
  return problems;
}

/** warningHeaders renders warnings as RFC 7234 `Warning: 299 - "..."` headers. */
export function warningHeaders(warnings: readonly string[]): Headers {
  const h = new Headers();
  for (const w of warnings) h.append('warning', `299 - ${JSON.stringify(w)}`);
  return h;
}

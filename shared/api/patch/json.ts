/**
 * JSON patch (RFC 6902, `application/json-patch+json`) and JSON merge patch (RFC 7386,
 * `application/merge-patch+json`), answered as Kubernetes answers them.
 */
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { ApiError } from '../status.js';
import { FORBIDDEN_KEYS, assertNoForbiddenKeys, forbiddenKeyError, patchBadRequest, patchRejected } from './errors.js';

type JsonObject = Record<string, unknown>;

/** MAX_JSON_PATCH_OPERATIONS is Kubernetes' limit (`maxJSONPatchOperations`); more answer 413. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// Kubernetes decodes the document first (DecodePatch: 400 when it is not an array of objects), then
// applies it (every failure there, an unknown op included, is a 422).
function decodeJsonPatch(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw patchBadRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  for (const op of patch) {
    if (!isObject(op)) throw patchBadRequest('json: cannot unmarshal non-object into Go value of type map[string]*json.RawMessage');
  }
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(413, 'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`);
  }
  return patch as Operation[];
}

function assertSafePointer(pointer: unknown): void {
  if (typeof pointer !== 'string') return;
  for (const token of pointer.split('/')) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    if (FORBIDDEN_KEYS.has(key)) throw forbiddenKeyError(key);
  }
}

/**
 * applyJsonPatch applies an RFC 6902 patch to a copy of `original`. A document that is not an array
 * of operation objects answers 400; an operation that fails (unknown op, missing path, failed
 * `test`) answers 422 Invalid, as Kubernetes does; any path, `from` or value naming `__proto__`,
 * `constructor` or `prototype` answers 400.
 */
export function applyJsonPatch(original: JsonObject, patch: unknown): JsonObject {
  const operations = decodeJsonPatch(patch);
  for (const op of operations) {
    assertSafePointer(op.path);
    assertSafePointer((op as { from?: unknown }).from);
    assertNoForbiddenKeys((op as { value?: unknown }).value);
    // RFC 6902 4.4: `from` may not be a proper prefix of `path` (moving a value into itself would
    // make a cycle; Go's evanphx/json-patch refuses it too).
    const from = (op as { from?: unknown }).from;
    if (op.op === 'move' && typeof from === 'string' && typeof op.path === 'string' && op.path !== from && op.path.startsWith(`${from}/`)) {
      throw patchRejected(`invalid move operation: ${from} is a prefix of ${op.path}`);
    }
  }
  let result: unknown;
  try {
    // validate=true checks each op before applying it; banPrototypeModifications is a second guard.
    result = fastJsonPatch.applyPatch(structuredClone(original), operations, true, true, true).newDocument;
  } catch (err) {
    throw patchRejected(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
  if (!isObject(result)) throw patchRejected('the patched document is not a JSON object');
  return result;
}

function mergeValue(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergeValue(out[key], value);
  }
  return out;
}

/**
 * applyMergePatch applies an RFC 7386 JSON merge patch to a copy of `original`: objects merge
 * recursively, `null` deletes, anything else (lists included) replaces. A patch that is not a JSON
 * object answers 400.
 */
export function applyMergePatch(original: JsonObject, patch: unknown): JsonObject {
  if (!isObject(patch)) throw patchBadRequest('Invalid JSON Patch');
  assertNoForbiddenKeys(patch);
  return mergeValue(structuredClone(original), patch) as JsonObject;
}

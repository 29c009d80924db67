/**
 * The failures patching can answer, classified as Kubernetes' API server classifies them
 * (k8s.io/apiserver/pkg/endpoints/handlers/patch.go: `interpretStrategicMergePatchError`,
 * `applyJSPatch`).
 */
import { ApiError, badRequest } from '../status.js';

/**
 * patchRejected is the 422 Kubernetes answers when a well-formed patch cannot be applied (a JSON
 * patch `test` that fails, a path that does not exist, an unknown op, a list of lists in a
 * strategic merge patch). Kubernetes builds it with NewGenericServerResponse, which drops the cause:
 * kubectl shows "The request is invalid: the server rejected our request due to an error in our
 * request". The cause is kept here in `details.causes` so that logs can say what went wrong.
 */
export function patchRejected(cause: string): ApiError {
  return new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ message: cause }],
  });
}

/**
 * patchInternal is for the strategic-merge-patch failures Kubernetes does not classify (a missing
 * merge key, an unknown `$patch`): kube-apiserver answers them 500 InternalError, but each is the
 * patch's fault, and a hardened server answers no 5xx for a client's input (issue 15), so here they
 * are 400 BadRequest with the library's message.
 */
export function patchInternal(message: string): ApiError {
  return badRequest(message);
}

/** patchBadRequest is a 400 for a malformed patch document. */
export function patchBadRequest(message: string): ApiError {
  return badRequest(message);
}

/** FORBIDDEN_KEYS are the property names a patch may never name: they reach JavaScript prototypes. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** forbiddenKeyError is the 400 answered for a patch that names `__proto__`, `constructor` or `prototype`. */
export function forbiddenKeyError(key: string): ApiError {
  return badRequest(`patch may not reference the field "${key}"`);
}

/** assertNoForbiddenKeys walks a decoded patch value and rejects any forbidden property name. */
export function assertNoForbiddenKeys(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) assertNoForbiddenKeys(item);
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) throw forbiddenKeyError(key);
      assertNoForbiddenKeys((value as Record<string, unknown>)[key]);
    }
  }
}

/**
 * goFormat renders a decoded JSON value as Go's `%v` does (`map[image:nginx name:web]`), so that
 * messages copied from Kubernetes read the same.
 */
export function goFormat(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goFormat).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${k}:${goFormat((value as Record<string, unknown>)[k])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(value);
}

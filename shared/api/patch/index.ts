/**
 * The patch engine: JSON patch, JSON merge patch and strategic merge patch, applied to a copy of
 * the stored object. Pure functions; the API server decodes the body and stores the result.
 * Server-side apply lives in `./apply.ts`.
 */
import { applyJsonPatch, applyMergePatch } from './json.js';
import { patchMetaFor } from './meta.js';
import { strategicMergePatch } from './strategic.js';

/** PatchType names the three PATCH content types: json-patch+json, merge-patch+json, strategic-merge-patch+json. */
export type PatchType = 'json' | 'merge' | 'strategic';

/**
 * applyPatch applies `patch` (already decoded from JSON) to `original` and returns a NEW object;
 * `original` is never mutated. `kind` selects the merge keys of strategic merge patch (a kind that
 * is not served falls back to replacing every list, as for a type without patch metadata).
 *
 * Throws ApiError as Kubernetes answers: 400 for a malformed document or one that names
 * `__proto__`, `constructor` or `prototype`; 422 Invalid ("the server rejected our request due to
 * an error in our request") when a JSON patch operation fails (failed `test`, missing path, unknown
 * op) or a strategic patch holds a list of lists; 413 past 10,000 JSON patch operations; 400 for
 * the strategic-merge-patch errors Kubernetes leaves unclassified and answers 500 (missing merge
 * key, unknown `$patch`).
 */
export function applyPatch(
  patchType: PatchType,
  original: Record<string, unknown>,
  patch: unknown,
  kind: { apiVersion: string; kind: string },
): Record<string, unknown> {
  switch (patchType) {
    case 'json':
      return applyJsonPatch(original, patch);
    case 'merge':
      return applyMergePatch(original, patch);
    case 'strategic':
      return strategicMergePatch(original, patch, patchMetaFor(kind.apiVersion, kind.kind));
  }
}

export { patchMetaFor, type PatchMeta } from './meta.js';

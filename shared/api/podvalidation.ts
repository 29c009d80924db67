/**
 * Pod rules from k8s.io/kubernetes pkg/apis/core/validation that go beyond the shape of a spec:
 * numeric bounds (terminationGracePeriodSeconds, activeDeadlineSeconds), container resources
 * (non-negative quantities, requests within limits) and ValidatePodUpdate's rule that a running
 * pod's spec is immutable except for a few fields.
 */
import { deepEqual, isRecord } from './objects.js';
import { parseQuantity } from './quantity.js';
import type { Causes } from './validation.js';

/** POD_UPDATE_FORBIDDEN is upstream's message for a pod update that changes anything else. */
export const POD_UPDATE_FORBIDDEN = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/**
 * MAX_QUANTITY is the largest quantity Coracle computes with: int64 in base units, as
 * Quantity.Value(). Upstream stores larger decimal quantities (`1e999999`) and saturates when it
 * computes with them; Coracle refuses them instead, since its arithmetic would lose them.
 */
const MAX_QUANTITY = 2 ** 63 - 1;
const MAX_QUANTITY_TEXT = '9223372036854775807';

function validateResourceList(list: unknown, field: string, c: Causes): Map<string, number> {
  const values = new Map<string, number>();
  if (!isRecord(list)) return values;
  for (const [name, raw] of Object.entries(list)) {
    const at = `${field}[${name}]`;
    const q = parseQuantity(raw as string | number);
    if (q === undefined) continue; // syntax is the decoder's (400) job
    if (q < 0) c.invalid(at, raw, 'must be greater than or equal to 0');
    else if (!Number.isFinite(q) || q > MAX_QUANTITY) c.invalid(at, raw, `must be less than or equal to ${MAX_QUANTITY_TEXT}`);
    else values.set(name, q);
  }
  return values;
}

function validateResources(resources: unknown, field: string, c: Causes): void {
  if (!isRecord(resources)) return;
  const limits = validateResourceList(resources.limits, `${field}.limits`, c);
  const requests = validateResourceList(resources.requests, `${field}.requests`, c);
  for (const [name, request] of requests) {
    const limit = limits.get(name);
    if (limit !== undefined && request > limit) {
      c.invalid(`${field}.requests`, String((resources.requests as Record<string, unknown>)[name]), `must be less than or equal to ${name} limit of ${String((resources.limits as Record<string, unknown>)[name])}`);
    }
  }
}

/** validatePodSpecLimits adds the numeric and resource rules of a pod spec at `field`. */
export function validatePodSpecLimits(spec: Record<string, unknown>, field: string, c: Causes): void {
  const grace = spec.terminationGracePeriodSeconds;
  if (typeof grace === 'number' && grace < 0) c.invalid(`${field}.terminationGracePeriodSeconds`, grace, 'must be greater than or equal to 0');
  const deadline = spec.activeDeadlineSeconds;
  if (typeof deadline === 'number' && (deadline < 1 || deadline > 2 ** 31 - 1)) {
    c.invalid(`${field}.activeDeadlineSeconds`, deadline, 'must be between 1 and 2147483647, inclusive');
  }
  for (const list of ['containers', 'initContainers'] as const) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((ct, i) => {
      if (isRecord(ct)) validateResources(ct.resources, `${field}.${list}[${i}].resources`, c);
    });
  }
}

const containersOf = (spec: Record<string, unknown>, list: string): unknown[] => (Array.isArray(spec[list]) ? (spec[list] as unknown[]) : []);

/** withImagesOf returns `containers` with each image replaced by the same-index image of `old` (the images may change). */
function withImagesOf(containers: unknown[], old: unknown[]): unknown[] {
  return containers.map((ct, i) => (isRecord(ct) && isRecord(old[i]) ? { ...ct, image: old[i].image } : ct));
}

/** isSubsetOf: every element of `part` is deep-equal to one of `whole`. */
const isSubsetOf = (part: unknown[], whole: unknown[]): boolean => part.every((p) => whole.some((w) => deepEqual(p, w)));

/**
 * validatePodSpecUpdate is ValidatePodUpdate's spec rule: the new spec, with the fields that may
 * change set back to the old values (images, activeDeadlineSeconds, tolerations when only added,
 * terminationGracePeriodSeconds from negative to 1, schedulingGates when only removed, nodeName
 * when the binding subresource sets it), must equal the old spec; else 422 Forbidden on `spec`.
 */
export function validatePodSpecUpdate(spec: Record<string, unknown>, old: Record<string, unknown>, c: Causes, binding: boolean): void {
  const munged: Record<string, unknown> = { ...spec };
  for (const list of ['containers', 'initContainers']) {
    if (Array.isArray(spec[list])) munged[list] = withImagesOf(spec[list] as unknown[], containersOf(old, list));
  }
  const setBack = (key: string): void => {
    if (old[key] === undefined) delete munged[key];
    else munged[key] = old[key];
  };
  setBack('activeDeadlineSeconds');
  if (isSubsetOf(containersOf(old, 'tolerations'), containersOf(spec, 'tolerations'))) setBack('tolerations');
  if (typeof old.terminationGracePeriodSeconds === 'number' && old.terminationGracePeriodSeconds < 0 && spec.terminationGracePeriodSeconds === 1) setBack('terminationGracePeriodSeconds');
  if (isSubsetOf(containersOf(spec, 'schedulingGates'), containersOf(old, 'schedulingGates'))) setBack('schedulingGates');
  if (binding && !old.nodeName) setBack('nodeName');
  if (!deepEqual(munged, old)) c.forbidden('spec', POD_UPDATE_FORBIDDEN);
}

/** Taints and tolerations, as k8s.io/api/core/v1's ToleratesTaint decides them. */
import type { Taint } from './nodeinfo.js';
import type { Toleration } from './podinfo.js';

/** tolerates tells whether `toleration` tolerates `taint` (empty key with Exists tolerates every key; empty effect every effect). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  if (toleration.operator && toleration.operator !== 'Equal') return false;
  return (toleration.value ?? '') === (taint.value ?? '');
}

/** isTolerated tells whether any of `tolerations` tolerates `taint`. */
export function isTolerated(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => tolerates(t, taint));
}

/** firstUntoleratedTaint is the first taint with one of `effects` that `tolerations` do not tolerate. */
export function firstUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !isTolerated(tolerations, taint));
}

/** countUntoleratedTaints counts the taints with `effect` that `tolerations` do not tolerate. */
export function countUntoleratedTaints(taints: readonly Taint[], tolerations: readonly Toleration[], effect: string): number {
  let n = 0;
  for (const taint of taints) if (taint.effect === effect && !isTolerated(tolerations, taint)) n++;
  return n;
}

/** formatTaint renders a taint as kube-scheduler's messages do: `{key: value}`. */
export function formatTaint(taint: Taint): string {
  return `{${taint.key}: ${taint.value ?? ''}}`;
}

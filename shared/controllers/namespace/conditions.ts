/**
 * The conditions a terminating namespace reports, worded as Kubernetes' namespace controller
 * words them (pkg/controller/namespace/deletion), so `kubectl describe namespace` reads the same.
 */
import { qualifiedResource } from '../../api/status.js';
import { deepEqual, rfc3339Now } from '../../api/objects.js';

/** ContentTally is what a deletion pass found left in a namespace, and what failed. */
export interface ContentTally {
  /** Remaining instances by resource (`configmaps`, `replicasets.apps`). */
  remaining: Map<string, number>;
  /** Remaining instances by the finalizer they carry. */
  finalizers: Map<string, number>;
  /** Delete or list failures, one message each. */
  failures: string[];
}

/** NamespaceCondition is one entry of a Namespace's status.conditions. */
export interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/** tallyKey is how a resource is named in the condition messages (`pods.` for the core group, as Kubernetes prints it). */
export function tallyKey(group: string, plural: string): string {
  return group === '' ? `${plural}.` : qualifiedResource(group, plural);
}

function describe(counts: Map<string, number>, verb: 'has' | 'in'): string {
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([what, n]) => `${what} ${verb} ${n} resource instances`).join(', ');
}

/** deletionConditions renders the five conditions for a tally. */
export function deletionConditions(tally: ContentTally): NamespaceCondition[] {
  const failed = tally.failures.length > 0;
  return [
    { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
    failed
      ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${tally.failures.length} remaining: ${tally.failures.join(', ')}` }
      : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    tally.remaining.size > 0
      ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${describe(tally.remaining, 'has')}` }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    tally.finalizers.size > 0
      ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${describe(tally.finalizers, 'in')}` }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
  ];
}

/**
 * mergeConditions puts `next` over `current`: a condition whose status, reason and message are
 * unchanged keeps its lastTransitionTime; a changed one gets `now`. Undefined when nothing changed.
 */
export function mergeConditions(current: readonly NamespaceCondition[], next: readonly NamespaceCondition[], now: Date): NamespaceCondition[] | undefined {
  const byType = new Map(current.map((c) => [c.type, c]));
  let changed = current.length !== next.length;
  const merged = next.map((c) => {
    const old = byType.get(c.type);
    if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) return old;
    changed = true;
    return { ...c, lastTransitionTime: rfc3339Now(now) };
  });
  return changed || !deepEqual(merged, current) ? merged : undefined;
}

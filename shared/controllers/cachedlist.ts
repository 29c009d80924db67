/**
 * listPodsConsistently: a reconcile's list of the pods of one namespace that match a label
 * selector, read from the process's shared watch-fed cache (ControllerContext.informer) once the
 * cache has caught up with the store — so it holds every write made before the call, the
 * reconcile's own earlier creates and deletes and the change that woke it included — and through
 * the API otherwise (no cache in this context, or it did not catch up within SYNC_TIMEOUT_MS).
 * A list through the API decodes every pod of the selector: 10,000 per pass of a big ReplicaSet
 * under churn, which starved the API server's event loop (bench:overload).
 */
import { readMetadata, type KubeObject } from '../api/objects.js';
import { findResourceByKind } from '../api/resources.js';
import { formatLabelSelector, matchesLabels, type LabelSelector } from '../api/selectors.js';
import type { ControllerContext } from './controller.js';

const PODS = findResourceByKind('v1', 'Pod')!;

/** listPodsConsistently answers the pods of `namespace` matching `selector` (an empty selector: all); see the file comment. NEVER modify them. */
export async function listPodsConsistently(ctx: ControllerContext, namespace: string, selector: LabelSelector): Promise<Readonly<KubeObject>[]> {
  const cache = ctx.informer?.(PODS);
  if (cache && (await cache.syncToCurrent())) {
    const pods: Readonly<KubeObject>[] = [];
    for (const pod of cache.inNamespace(namespace)) {
      if (matchesLabels(selector, readMetadata(pod).labels as Record<string, string> | undefined)) pods.push(pod);
    }
    return pods;
  }
  return ctx.client.listAll(PODS, { namespace, labelSelector: formatLabelSelector(selector) || undefined });
}

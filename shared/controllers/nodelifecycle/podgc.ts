/**
 * Pod garbage collection of orphaned pods (kube-controller-manager's podgc, `gcOrphaned`): pods
 * bound to a node that no longer exists are force-deleted (grace 0), since no agent will ever
 * confirm their graceful delete. Keyed by node name: a Node delete queues its name; the resync
 * (at start-up, when deletes may have been missed) lists every bound pod and queues the names
 * of missing nodes. Before deleting, the reconcile checks the node is really gone (upstream's
 * quarantine re-check), so a node deleted and registered again keeps its pods.
 */
import { findResourceByKind } from '../../api/resources.js';
import { isRecord, readMetadata, rfc3339Now, type KubeObject } from '../../api/objects.js';
import type { Change } from '../change.js';
import type { Controller, ControllerContext } from '../controller.js';
import { ignoreNotFound, updateWithRetry } from '../update.js';
import { conditionsOf } from './health.js';

const NODES = findResourceByKind('v1', 'Node')!;
const PODS = findResourceByKind('v1', 'Pod')!;

/** POD_GC_CONTROLLER is the controller's name. */
export const POD_GC_CONTROLLER = 'podgc';

/** podGcKeys maps a change to node names to check: a deleted Node's name. Pure. */
export function podGcKeys(change: Change): string[] {
  if (change.value.kind !== 'Node' || change.type !== 'delete') return [];
  const name = readMetadata(change.value).name;
  return name ? [name] : [];
}

/** orphanedNodeNames are the node names `pods` are bound to that are not in `nodeNames`. Pure. */
export function orphanedNodeNames(pods: readonly Readonly<KubeObject>[], nodeNames: ReadonlySet<string>): string[] {
  const missing = new Set<string>();
  for (const pod of pods) {
    const nodeName = isRecord(pod.spec) ? pod.spec.nodeName : undefined;
    if (typeof nodeName === 'string' && nodeName !== '' && !nodeNames.has(nodeName)) missing.add(nodeName);
  }
  return [...missing];
}

/** DisruptionTarget condition the pod gets before its forced delete (as upstream's podgc sets). */
function disruptionTarget(now: Date): Record<string, unknown> {
  return { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists', lastTransitionTime: rfc3339Now(now) };
}

/** reconcilePodGc force-deletes the pods bound to node `nodeName` if that node does not exist. */
export async function reconcilePodGc(nodeName: string, ctx: ControllerContext): Promise<void> {
  if (await ctx.client.getOrUndefined(NODES, { name: nodeName })) return;
  const pods = await ctx.client.listAll(PODS, { fieldSelector: `spec.nodeName=${nodeName}` });
  for (const pod of pods) {
    const meta = readMetadata(pod);
    const ref = { namespace: meta.namespace, name: String(meta.name) };
    await updateWithRetry(ctx.client, PODS, ref, (p) => {
      if (conditionsOf(p).some((c) => c.type === 'DisruptionTarget')) return false;
      const status = isRecord(p.status) ? p.status : (p.status = {});
      status.conditions = [...conditionsOf(p), disruptionTarget(ctx.now())];
      return true;
    }, 'status');
    await ignoreNotFound(ctx.client.delete(PODS, ref, { gracePeriodSeconds: 0, preconditions: { uid: meta.uid } }));
  }
}

/** podGcController force-deletes pods left on deleted nodes, in-process. */
export const podGcController: Controller = {
  name: POD_GC_CONTROLLER,
  kinds: ['Node'],
  keysFor: podGcKeys,
  reconcile: reconcilePodGc,
  async resync(ctx) {
    const [nodes, bound] = await Promise.all([ctx.client.listAll(NODES), ctx.client.listAll(PODS, { fieldSelector: 'spec.nodeName!=' })]);
    return orphanedNodeNames(bound, new Set(nodes.map((n) => String(readMetadata(n).name))));
  },
};

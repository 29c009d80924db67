/**
 * The ReplicaSet controller's reconcile (Kubernetes' syncReplicaSet): for one `<namespace>/<name>`
 * key, read the ReplicaSet and its pods, claim pods (adopt matching orphans, release owned pods
 * that stopped matching), create or delete pods towards `spec.replicas`, and write status.
 *
 * No expectations (ControllerExpectations) are kept: the store is strongly consistent, every pass
 * re-lists, and the callers never run two passes of one key at once (the ReconcileQueue, or one
 * orchestration instance per key), so a pass always sees the previous pass's creates and deletes.
 *
 * Pods are listed by the selector. Owned pods that stopped matching are found by listing the
 * whole namespace, which is done only when fewer owned pods match than `status.replicas` counted
 * (a pod lost labels, or was deleted): the common pass stays proportional to the ReplicaSet.
 */
import { readMetadata, type KubeObject } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import type { LabelSelector } from '../../api/selectors.js';
import { listPodsConsistently } from '../cachedlist.js';
import type { ApiClient } from '../client.js';
import type { ControllerContext } from '../controller.js';
import { EventRecorder } from '../events.js';
import type { ReconcileOutcome } from '../queue.js';
import { updateWithRetry } from '../update.js';
import { adoptPod, decideClaims, releasePod } from './claim.js';
import { controllerRefOf, parseReplicaSetKey, replicaSetSelector } from './keys.js';
import { manageReplicas } from './manage.js';
import { isPodActive } from './pods.js';
import { replicaSetStatus, statusChanged, type ManageFailure } from './status.js';

const REPLICASETS = findResourceByKind('apps/v1', 'ReplicaSet')!;

/** COMPONENT is the controller's name in events (as kube-controller-manager's). */
export const COMPONENT = 'replicaset-controller';

/** ManageReplicasError is thrown after a pass whose creates or deletes failed, so the key is retried with back-off. */
export class ManageReplicasError extends Error {
  constructor(readonly failure: ManageFailure) {
    super(`${failure.reason}: ${failure.message}`);
    this.name = 'ManageReplicasError';
  }
}

// One recorder per client, so identical events (say, repeated FailedCreate) are counted up, not duplicated.
const recorders = new WeakMap<ApiClient, EventRecorder>();

function recorderFor(ctx: ControllerContext): EventRecorder {
  let recorder = recorders.get(ctx.client);
  if (!recorder) recorders.set(ctx.client, (recorder = new EventRecorder(ctx.client, { component: COMPONENT, now: ctx.now })));
  return recorder;
}

/** reconcileReplicaSet is the reconcile for one key (see the file comment); a missing ReplicaSet returns quietly. */
export async function reconcileReplicaSet(key: string, ctx: ControllerContext): Promise<ReconcileOutcome | void> {
  const ref = parseReplicaSetKey(key);
  if (!ref) return;
  // NEVER modify `rs` or listed pods: they are shared reads; writes go through copies.
  const rs: Readonly<KubeObject> | undefined = await ctx.client.getOrUndefined(REPLICASETS, ref);
  if (!rs) return;
  const selector = replicaSetSelector(rs);
  // Validation refuses an empty selector; a ReplicaSet without one selects nothing and owns nothing.
  if (!selector) return;
  const deleting = readMetadata(rs).deletionTimestamp !== undefined;
  const claims = decideClaims(rs, selector, await listPods(ctx, rs, selector), !deleting);
  const adopted = await Promise.all(claims.adopt.map((pod) => adoptPod(ctx.client, rs, pod)));
  await Promise.all(claims.release.map((pod) => releasePod(ctx.client, rs, pod)));
  let active = [...claims.owned, ...adopted.filter((p): p is KubeObject => p !== undefined)].filter(isPodActive);
  let failure: ManageFailure | undefined;
  // A ReplicaSet being deleted keeps its pods as they are: the garbage collector removes them.
  if (!deleting) ({ active, failure } = await manageReplicas(ctx.client, recorderFor(ctx), rs, active));
  const outcome = await writeStatus(ctx, rs, active, failure);
  if (failure) throw new ManageReplicasError(failure);
  return outcome;
}

/**
 * listPods lists the pods `rs` may claim: those matching its selector, or the whole namespace when
 * an owned pod may have stopped matching (from the shared cache when it has caught up, see
 * cachedlist.ts).
 */
async function listPods(ctx: ControllerContext, rs: Readonly<KubeObject>, selector: LabelSelector): Promise<Readonly<KubeObject>[]> {
  const meta = readMetadata(rs);
  const namespace = String(meta.namespace);
  const matching = await listPodsConsistently(ctx, namespace, selector);
  const counted = Number((rs.status as Record<string, unknown> | undefined)?.replicas ?? 0);
  const owned = matching.filter((p) => controllerRefOf(p)?.uid === meta.uid && isPodActive(p)).length;
  return owned >= counted ? matching : listPodsConsistently(ctx, namespace, []);
}

/** writeStatus writes the status computed from `active` when it differs, and asks to look again when a ready pod will become available. */
async function writeStatus(ctx: ControllerContext, rs: Readonly<KubeObject>, active: readonly Readonly<KubeObject>[], failure: ManageFailure | undefined): Promise<ReconcileOutcome | void> {
  const now = ctx.now();
  const computed = replicaSetStatus(rs, active, failure, now);
  if (statusChanged(rs, computed.status)) {
    const meta = readMetadata(rs);
    await updateWithRetry(ctx.client, REPLICASETS, { namespace: meta.namespace, name: String(meta.name) }, (copy) => {
      // The live copy may hold other conditions: compute on it, but observedGeneration stays the
      // generation this pass acted on (a newer spec has not been acted on yet).
      if (readMetadata(copy).uid !== meta.uid) return false;
      const next = replicaSetStatus(copy, active, failure, now).status;
      next.observedGeneration = computed.status.observedGeneration;
      if (!statusChanged(copy, next)) return false;
      copy.status = next;
      return true;
    }, 'status');
  }
  if (computed.availableInMs !== undefined) return { requeueAfterMs: computed.availableInMs };
}

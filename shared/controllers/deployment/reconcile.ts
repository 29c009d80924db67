/**
 * The Deployment controller's reconcile (Kubernetes' syncDeployment) for one `<namespace>/<name>`
 * key: claim the Deployment's ReplicaSets, then, as upstream:
 * - being deleted: status only;
 * - paused, or resized (a ReplicaSet was sized for another replica count): `sync` — scale
 *   proportionally, no rollout progress (and history cleanup when paused);
 * - else roll out: RollingUpdate (scale the new ReplicaSet up within maxSurge, the old ones down
 *   within maxUnavailable) or Recreate (old to 0, wait for their pods to be gone, then the new);
 * then write status (conditions, progress deadline), remember the last fully available
 * ReplicaSet, roll back automatically when asked to (rollback.ts), and say when to look again
 * (the progress deadline, or old pods still terminating under Recreate).
 *
 * No expectations are kept (as in the ReplicaSet controller): every pass re-reads through the
 * API, which is strongly consistent, and one key is never reconciled twice at once.
 */
import { readMetadata, type KubeObject } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import { formatLabelSelector, fromLabelSelectorObject, type LabelSelector } from '../../api/selectors.js';
import { ApiError } from '../../api/status.js';
import type { ApiClient } from '../client.js';
import type { ControllerContext } from '../controller.js';
import { EventRecorder } from '../events.js';
import type { ReconcileOutcome } from '../queue.js';
import { parseReplicaSetKey } from '../replicaset/keys.js';
import { updateWithRetry } from '../update.js';
import { replicaSetsToClean } from './history.js';
import { DeploymentSync, HashCollisionError } from './replicasets.js';
import { applyRollback, decideAutoRollback, LAST_AVAILABLE_ANNOTATION, ROLLED_BACK_REASON } from './rollback.js';
import {
  applySteps, isScalingEvent, oldPodsRunning, planNewReplicaSet, planOldReplicaSets, planRecreateScaleDown, planScale,
} from './scaling.js';
import {
  calculateStatus, deadlineCheckInMs, deploymentComplete, deploymentStatus, newCondition, pausedCondition, PROGRESSING, rolloutStatus,
} from './status.js';
import { annotationsOf, isPaused, isRecreate, nameOf, specOf, specReplicas } from './util.js';

const DEPLOYMENTS = findResourceByKind('apps/v1', 'Deployment')!;
const PODS = findResourceByKind('v1', 'Pod')!;

/** COMPONENT is the controller's name in events (as kube-controller-manager's). */
export const COMPONENT = 'deployment-controller';
/** RECREATE_POLL_MS is how often a Recreate rollout looks again while old pods terminate (pod deletions also wake it). */
export const RECREATE_POLL_MS = 2000;
/** RETRY_SOON_MS is the requeue after a lost race (Conflict) or a hash collision. */
export const RETRY_SOON_MS = 100;

type RS = Readonly<KubeObject>;

const recorders = new WeakMap<ApiClient, EventRecorder>();

function recorderFor(ctx: ControllerContext): EventRecorder {
  let recorder = recorders.get(ctx.client);
  if (!recorder) recorders.set(ctx.client, (recorder = new EventRecorder(ctx.client, { component: COMPONENT, now: ctx.now })));
  return recorder;
}

/** reconcileDeployment is the reconcile for one key (see the file comment); a missing Deployment returns quietly. */
export async function reconcileDeployment(key: string, ctx: ControllerContext): Promise<ReconcileOutcome | void> {
  const ref = parseReplicaSetKey(key); // the same `<namespace>/<name>` shape
  if (!ref) return;
  try {
    return await syncDeployment(ref, ctx);
  } catch (err) {
    // A lost race or a collision is retried at once on fresh state (upstream requeues with the rate limiter).
    if ((err instanceof ApiError && err.reason === 'Conflict') || err instanceof HashCollisionError) return { requeueAfterMs: RETRY_SOON_MS };
    throw err;
  }
}

async function syncDeployment(ref: { namespace: string; name: string }, ctx: ControllerContext): Promise<ReconcileOutcome | void> {
  // NEVER modify `d` or listed ReplicaSets: they are shared reads; writes go through copies.
  const d: RS | undefined = await ctx.client.getOrUndefined(DEPLOYMENTS, ref);
  if (!d) return;
  const selector = fromLabelSelectorObject(specOf(d).selector);
  // Validation refuses an empty selector; one that selects everything would claim every ReplicaSet.
  if (!selector || selector.length === 0) return;
  const sync = new DeploymentSync(ctx.client, recorderFor(ctx), d, ctx.now);
  const replicaSets = await sync.claimReplicaSets(selector);
  if (readMetadata(d).deletionTimestamp !== undefined) {
    const { newRS, old } = await sync.newReplicaSet(replicaSets, false);
    await sync.writeStatus(calculateStatus(sync.d, withNew(old, newRS), newRS, ctx.now()));
    return;
  }
  const paused = pausedCondition(sync.d, isPaused(sync.d), ctx.now());
  if (paused) await sync.writeCondition(paused);
  if (isPaused(sync.d) || isScalingEvent(sync.d, replicaSets)) return scaleOnly(sync, replicaSets, ctx);
  return isRecreate(sync.d) ? rolloutRecreate(sync, replicaSets, selector, ctx) : rolloutRolling(sync, replicaSets, ctx);
}

function withNew(old: readonly RS[], newRS: RS | undefined): RS[] {
  return newRS ? [...old, newRS] : [...old];
}

/** scaleOnly is upstream's `sync`: proportional scaling, history cleanup when paused, status without progress estimation. */
async function scaleOnly(sync: DeploymentSync, replicaSets: readonly RS[], ctx: ControllerContext): Promise<ReconcileOutcome | void> {
  const { newRS, old } = await sync.newReplicaSet(replicaSets, false);
  const steps = planScale(sync.d, newRS, old);
  await sync.scaleAll(steps, false);
  if (isPaused(sync.d)) await sync.deleteReplicaSets(replicaSetsToClean(sync.d, old));
  const all = applySteps(withNew(old, newRS), steps);
  await sync.writeStatus(calculateStatus(sync.d, all, newRS, ctx.now()));
}

/** rolloutRolling is rolloutRolling: one scale-up of the new ReplicaSet, else one scale-down of old ones, then status. */
async function rolloutRolling(sync: DeploymentSync, replicaSets: readonly RS[], ctx: ControllerContext): Promise<ReconcileOutcome | void> {
  const { newRS, old } = await sync.newReplicaSet(replicaSets, true);
  const all = withNew(old, newRS);
  if (!newRS) return;
  const up = planNewReplicaSet(sync.d, all, newRS);
  if (await sync.scaleAll(up)) return finishRollout(sync, applySteps(all, up), newRS, old, ctx);
  const down = planOldReplicaSets(sync.d, all, old, newRS);
  if (await sync.scaleAll(down)) return finishRollout(sync, applySteps(all, down), newRS, old, ctx);
  if (deploymentComplete(sync.d, deploymentStatus(sync.d))) await sync.deleteReplicaSets(replicaSetsToClean(sync.d, old));
  return finishRollout(sync, all, newRS, old, ctx);
}

/** rolloutRecreate is rolloutRecreate: old ReplicaSets to 0; once none of their pods runs, the new one at full size. */
async function rolloutRecreate(sync: DeploymentSync, replicaSets: readonly RS[], selector: LabelSelector, ctx: ControllerContext): Promise<ReconcileOutcome | void> {
  const found = await sync.newReplicaSet(replicaSets, false);
  const { old } = found;
  const down = planRecreateScaleDown(old);
  if (await sync.scaleAll(down)) {
    const outcome = await finishRollout(sync, applySteps(withNew(old, found.newRS), down), found.newRS, old, ctx);
    return soonest(outcome, RECREATE_POLL_MS);
  }
  const pods = await ctx.client.listAll(PODS, { namespace: readMetadata(sync.d).namespace, labelSelector: formatLabelSelector(selector) });
  if (oldPodsRunning(found.newRS, old, pods)) {
    return soonest(await finishRollout(sync, withNew(old, found.newRS), found.newRS, old, ctx), RECREATE_POLL_MS);
  }
  const newRS = found.newRS ?? (await sync.newReplicaSet(replicaSets, true)).newRS;
  if (!newRS) return;
  const all = withNew(old, newRS);
  const up = specReplicas(newRS) === sync.replicas ? [] : [{ rs: newRS, from: specReplicas(newRS), to: sync.replicas }];
  await sync.scaleAll(up);
  if (deploymentComplete(sync.d, deploymentStatus(sync.d))) await sync.deleteReplicaSets(replicaSetsToClean(sync.d, old));
  return finishRollout(sync, applySteps(all, up), newRS, old, ctx);
}

function soonest(outcome: ReconcileOutcome | void, ms: number): ReconcileOutcome {
  return { requeueAfterMs: Math.min(outcome?.requeueAfterMs ?? ms, ms) };
}

/**
 * finishRollout is syncRolloutStatus plus what Coracle adds: record the ReplicaSet of a complete
 * rollout as the last available one, and roll back automatically when asked to.
 */
async function finishRollout(sync: DeploymentSync, all: readonly RS[], newRS: RS | undefined, old: readonly RS[], ctx: ControllerContext): Promise<ReconcileOutcome | void> {
  const now = ctx.now();
  const status = rolloutStatus(sync.d, all, newRS, now);
  await sync.writeStatus(status);
  if (newRS && deploymentComplete(sync.d, status) && annotationsOf(sync.d)[LAST_AVAILABLE_ANNOTATION] !== nameOf(newRS)) {
    await sync.setAnnotations({ [LAST_AVAILABLE_ANNOTATION]: nameOf(newRS) });
  }
  const rollback = decideAutoRollback(sync.d, status, newRS, old);
  if (rollback) {
    const uid = readMetadata(sync.d).uid;
    const written = await updateWithRetry(ctx.client, DEPLOYMENTS, { namespace: readMetadata(sync.d).namespace, name: nameOf(sync.d) },
      (copy) => applyRollback(copy, rollback, uid));
    if (!written) return;
    sync.d = written;
    await sync.writeCondition(newCondition(PROGRESSING, 'True', ROLLED_BACK_REASON, rollback.message, now));
    await recorderFor(ctx).warning(sync.d, ROLLED_BACK_REASON, rollback.message);
    return;
  }
  const checkIn = deadlineCheckInMs(sync.d, status, now);
  if (checkIn !== undefined) return { requeueAfterMs: checkIn };
}

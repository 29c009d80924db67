/**
 * manageReplicas: create or delete pods so a ReplicaSet has `spec.replicas` active pods, as
 * Kubernetes' ReplicaSetController.manageReplicas does — creates in slow-start batches that stop
 * at the first failure, at most BURST_REPLICAS per pass; deletes of the best-ranked victims in
 * parallel batches of BURST_REPLICAS, all of the excess in one pass; one event per pod.
 */
import { clone, isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import { ApiError } from '../../api/status.js';
import type { EventRecorder } from '../events.js';
import type { ApiClient } from '../client.js';
import { ignoreNotFound } from '../update.js';
import { controllerRefFor } from './claim.js';
import { podsToDelete, slowStartBatches } from './pods.js';
import { settleInChunks, yieldToEventLoop } from '../batch.js';
import type { ManageFailure } from './status.js';

const PODS = findResourceByKind('v1', 'Pod')!;
const REPLICASETS = findResourceByKind('apps/v1', 'ReplicaSet')!;

/** BURST_REPLICAS caps the creates of one pass and the deletes of one batch (Kubernetes' burstReplicas, 500). */
export const BURST_REPLICAS = 500;

/** ManageResult is the active pods after the pass (what a fresh list would now show) and what failed, if anything. */
export interface ManageResult {
  active: Readonly<KubeObject>[];
  failure?: ManageFailure;
}

/** desiredReplicas is `spec.replicas` (1 when unset, as defaulting sets it). */
export function desiredReplicas(rs: Readonly<KubeObject>): number {
  const spec = isRecord(rs.spec) ? rs.spec : {};
  return typeof spec.replicas === 'number' ? spec.replicas : 1;
}

/** podFromTemplate builds a new pod of `rs` (GetPodFromTemplate): the template's labels, annotations, finalizers and spec, named `<rs-name>-<random>`. */
export function podFromTemplate(rs: Readonly<KubeObject>): KubeObject {
  const meta = readMetadata(rs);
  const spec = isRecord(rs.spec) ? rs.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const tmeta = isRecord(template.metadata) ? template.metadata : {};
  const podMeta: Record<string, unknown> = { generateName: `${meta.name}-`, namespace: meta.namespace };
  for (const field of ['labels', 'annotations', 'finalizers']) if (tmeta[field] !== undefined) podMeta[field] = clone(tmeta[field]);
  podMeta.ownerReferences = [controllerRefFor(rs)];
  return { apiVersion: 'v1', kind: 'Pod', metadata: podMeta, spec: clone(template.spec ?? {}) };
}

/** specUnchanged tells whether the ReplicaSet is still the one (uid) and still wants the replicas this pass acts on. */
async function specUnchanged(client: ApiClient, rs: Readonly<KubeObject>): Promise<boolean> {
  const meta = readMetadata(rs);
  const live = await client.getOrUndefined(REPLICASETS, { namespace: meta.namespace, name: String(meta.name) });
  return live !== undefined && readMetadata(live).uid === meta.uid && readMetadata(live).deletionTimestamp === undefined && desiredReplicas(live) === desiredReplicas(rs);
}

/** isNamespaceTerminating tells whether a create was refused because the namespace is going away (not a failure worth reporting). */
function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * manageReplicas creates or deletes pods of `rs` given its `active` pods (read-only), recording
 * SuccessfulCreate / SuccessfulDelete and FailedCreate / FailedDelete events on the ReplicaSet.
 */
export async function manageReplicas(client: ApiClient, recorder: EventRecorder, rs: Readonly<KubeObject>, active: readonly Readonly<KubeObject>[]): Promise<ManageResult> {
  const diff = active.length - desiredReplicas(rs);
  if (diff < 0) return createPods(client, recorder, rs, active, Math.min(-diff, BURST_REPLICAS));
  if (diff > 0) return deletePods(client, recorder, rs, active, diff, () => specUnchanged(client, rs));
  return { active: [...active] };
}

async function createPods(client: ApiClient, recorder: EventRecorder, rs: Readonly<KubeObject>, active: readonly Readonly<KubeObject>[], count: number): Promise<ManageResult> {
  const result: ManageResult = { active: [...active] };
  const createOne = async (): Promise<void> => {
    let pod: KubeObject;
    try {
      pod = await client.create(PODS, podFromTemplate(rs));
    } catch (err) {
      if (isNamespaceTerminating(err)) return;
      await recorder.warning(rs, 'FailedCreate', `Error creating: ${messageOf(err)}`);
      throw err;
    }
    result.active.push(pod);
    await recorder.normal(rs, 'SuccessfulCreate', `Created pod: ${String(readMetadata(pod).name)}`);
  };
  for (const size of slowStartBatches(count)) {
    const outcomes = await settleInChunks(Array.from({ length: size }), createOne);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    // Skip the rest: if one create of a batch failed, the next ones would most likely fail too.
    if (failed) return { ...result, failure: { reason: 'FailedCreate', message: messageOf(failed.reason) } };
  }
  return result;
}

/**
 * deletePods deletes `count` of `active`, best-ranked victims first, in batches of at most
 * BURST_REPLICAS (run CALL_CHUNK at a time, yielding to the event loop in between: batch.ts). Unlike creates
 * (slow-started, one burst per pass), every excess pod goes in this one pass: a scale-down from
 * thousands converges as fast as the scale-up did, instead of one burst per resync (issue 15).
 * It stops at the first batch with a failure, or when `stillWanted` says the ReplicaSet changed.
 */
async function deletePods(client: ApiClient, recorder: EventRecorder, rs: Readonly<KubeObject>, active: readonly Readonly<KubeObject>[], count: number, stillWanted: () => Promise<boolean>): Promise<ManageResult> {
  const victims = podsToDelete(active, count);
  const deleted = new Set<Readonly<KubeObject>>();
  const deleteOne = async (pod: Readonly<KubeObject>): Promise<void> => {
    const meta = readMetadata(pod);
    try {
      await ignoreNotFound(client.delete(PODS, { namespace: meta.namespace, name: String(meta.name) }, { preconditions: { uid: meta.uid } }));
    } catch (err) {
      await recorder.warning(rs, 'FailedDelete', `Error deleting: ${messageOf(err)}`);
      throw err;
    }
    deleted.add(pod);
    await recorder.normal(rs, 'SuccessfulDelete', `Deleted pod: ${String(meta.name)}`);
  };
  let failure: ManageFailure | undefined;
  for (let i = 0; i < victims.length; i += BURST_REPLICAS) {
    if (i > 0) {
      await yieldToEventLoop();
      if (!(await stillWanted())) break;
    }
    const outcomes = await settleInChunks(victims.slice(i, i + BURST_REPLICAS), deleteOne);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      failure = { reason: 'FailedDelete', message: messageOf(failed.reason) };
      break;
    }
  }
  const remaining = active.filter((p) => !deleted.has(p));
  return failure ? { active: remaining, failure } : { active: remaining };
}

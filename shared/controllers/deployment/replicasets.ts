/**
 * The Deployment controller's writes to ReplicaSets and to the Deployment, one pass at a time
 * (DeploymentSync holds the Deployment as last written, so successive writes of a pass carry
 * its latest resourceVersion): claiming ReplicaSets (adopt matching orphans, release owned ones
 * that stopped matching), finding or creating the new ReplicaSet (getNewReplicaSet), scaling with
 * the ScalingReplicaSet event (scaleReplicaSet), status and annotation writes, history cleanup.
 *
 * NEVER modify objects read from the API in place: they are shared reads; writes go through copies.
 */
import { clone, readMetadata, type KubeObject } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import { formatLabelSelector, matchesLabels, type LabelSelector } from '../../api/selectors.js';
import { ApiError } from '../../api/status.js';
import type { ApiClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import { controllerRefOf } from '../replicaset/keys.js';
import { ignoreNotFound } from '../update.js';
import { equalIgnoreHash } from './hash.js';
import {
  collisionCountOf, controllerRefFor, newReplicaSetFor, replicasAnnotations, replicasAnnotationsNeedUpdate,
  setNewReplicaSetAnnotations, splitReplicaSets, templateOf,
} from './history.js';
import { newReplicaSetReplicas, type ScaleStep } from './scaling.js';
import {
  deploymentStatus, FAILED_RS_CREATE_REASON, FOUND_NEW_RS_REASON, getCondition, NEW_RS_REASON, newCondition, PROGRESSING,
  setCondition, statusDiffers, type DeploymentStatus,
} from './status.js';
import { annotationsOf, maxRevision, minReadySecondsOf, nameOf, progressDeadlineOf, REVISION_ANNOTATION, specReplicas } from './util.js';

const DEPLOYMENTS = findResourceByKind('apps/v1', 'Deployment')!;
const REPLICASETS = findResourceByKind('apps/v1', 'ReplicaSet')!;

type RS = Readonly<KubeObject>;

/** HashCollisionError: a ReplicaSet of the new one's name exists with another template; collisionCount was raised, retry. */
export class HashCollisionError extends Error {
  constructor(name: string) {
    super(`replica set ${name} already exists with another template (hash collision)`);
    this.name = 'HashCollisionError';
  }
}

/** DeploymentSync performs one reconcile pass's writes for one Deployment (see the file comment). */
export class DeploymentSync {
  constructor(
    private readonly client: ApiClient,
    private readonly recorder: EventRecorder,
    /** The Deployment as last read or written by this pass. */
    public d: Readonly<KubeObject>,
    private readonly now: () => Date,
  ) {}

  private get ref() {
    const meta = readMetadata(this.d);
    return { namespace: String(meta.namespace), name: String(meta.name) };
  }

  /**
   * claimReplicaSets lists the ReplicaSets matching the selector and claims them
   * (ClaimReplicaSets): owned ones are kept, orphans adopted unless the Deployment is being
   * deleted, others' left alone. Owned ReplicaSets that stopped matching are released.
   */
  async claimReplicaSets(selector: LabelSelector): Promise<RS[]> {
    const uid = readMetadata(this.d).uid;
    const deleting = readMetadata(this.d).deletionTimestamp !== undefined;
    const listed = await this.client.listAll(REPLICASETS, { namespace: this.ref.namespace, labelSelector: formatLabelSelector(selector) });
    const owned: RS[] = [];
    for (const rs of listed) {
      const controller = controllerRefOf(rs);
      const meta = readMetadata(rs);
      if (controller) {
        if (controller.uid !== uid) continue;
        if (matchesLabels(selector, meta.labels)) owned.push(rs);
        else await this.patchOwners(rs, (meta.ownerReferences ?? []).filter((r) => r.uid !== uid));
      } else if (!deleting && meta.deletionTimestamp === undefined) {
        const adopted = await this.patchOwners(rs, [...(meta.ownerReferences ?? []), controllerRefFor(this.d)]);
        if (adopted) owned.push(adopted);
      }
    }
    return owned;
  }

  private patchOwners(rs: RS, refs: readonly Record<string, unknown>[]): Promise<KubeObject | undefined> {
    const meta = readMetadata(rs);
    return ignoreNotFound(this.client.patch(REPLICASETS, { namespace: meta.namespace, name: String(meta.name) },
      { metadata: { resourceVersion: meta.resourceVersion, ownerReferences: refs.length > 0 ? refs : null } }, 'merge'));
  }

  /**
   * newReplicaSet is getAllReplicaSetsAndSyncRevision + getNewReplicaSet: the new ReplicaSet (its
   * annotations brought up to date, or created when `create`), the old ones, and the
   * Deployment's revision annotation and Progressing condition synced.
   */
  async newReplicaSet(replicaSets: readonly RS[], create: boolean): Promise<{ newRS?: RS; old: RS[] }> {
    const { newRS: existing, old } = splitReplicaSets(this.d, replicaSets);
    const revision = maxRevision(old) + 1;
    if (existing) {
      const annotations = { ...annotationsOf(existing) };
      const changed = setNewReplicaSetAnnotations(this.d, annotations, revision, true);
      let current = existing;
      if (changed || Number((existing.spec as { minReadySeconds?: number }).minReadySeconds ?? 0) !== minReadySecondsOf(this.d)) {
        current = await this.patchReplicaSet(existing, { metadata: { annotations }, spec: { minReadySeconds: minReadySecondsOf(this.d) } });
      }
      await this.setRevision(annotationsOf(current)[REVISION_ANNOTATION] ?? '');
      if (progressDeadlineOf(this.d) !== undefined && !getCondition(deploymentStatus(this.d), PROGRESSING)) {
        await this.writeCondition(newCondition(PROGRESSING, 'True', FOUND_NEW_RS_REASON, `Found new replica set "${nameOf(existing)}"`, this.now()));
      }
      return { newRS: current, old };
    }
    if (!create) return { old };
    return { newRS: await this.createNewReplicaSet(old, revision), old };
  }

  private async createNewReplicaSet(old: readonly RS[], revision: number): Promise<RS> {
    const draft = newReplicaSetFor(this.d, 0, revision);
    const replicas = newReplicaSetReplicas(this.d, [...old, draft], draft);
    (draft.spec as Record<string, unknown>).replicas = replicas;
    let created: RS;
    let alreadyExisted = false;
    try {
      created = await this.client.create(REPLICASETS, draft);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.reason === 'AlreadyExists') {
        created = await this.adoptExistingOrCollide(nameOf(draft));
        alreadyExisted = true;
      } else {
        const message = `Failed to create new replica set "${nameOf(draft)}": ${err.message}`;
        if (progressDeadlineOf(this.d) !== undefined) {
          await this.writeCondition(newCondition(PROGRESSING, 'False', FAILED_RS_CREATE_REASON, message, this.now())).catch(() => undefined);
        }
        await this.recorder.warning(this.d, FAILED_RS_CREATE_REASON, message);
        throw err;
      }
    }
    if (!alreadyExisted && replicas > 0) await this.recorder.normal(this.d, 'ScalingReplicaSet', `Scaled up replica set ${nameOf(created)} from 0 to ${replicas}`);
    await this.setRevision(String(revision));
    if (!alreadyExisted && progressDeadlineOf(this.d) !== undefined) {
      await this.writeCondition(newCondition(PROGRESSING, 'True', NEW_RS_REASON, `Created new replica set "${nameOf(created)}"`, this.now()));
    }
    return created;
  }

  /** The name is taken: ours with an equal template is the new ReplicaSet; anything else is a hash collision. */
  private async adoptExistingOrCollide(name: string): Promise<RS> {
    const existing = await this.client.get(REPLICASETS, { namespace: this.ref.namespace, name });
    if (controllerRefOf(existing)?.uid === readMetadata(this.d).uid && equalIgnoreHash(templateOf(this.d), templateOf(existing))) return existing;
    const status = deploymentStatus(this.d);
    status.collisionCount = (collisionCountOf(this.d) ?? 0) + 1;
    await this.writeStatus(status);
    throw new HashCollisionError(name);
  }

  /** setRevision writes the Deployment's revision annotation when it differs (SetDeploymentRevision). */
  private async setRevision(revision: string): Promise<void> {
    if (annotationsOf(this.d)[REVISION_ANNOTATION] === revision) return;
    this.d = await this.client.patch(DEPLOYMENTS, this.ref, { metadata: { annotations: { [REVISION_ANNOTATION]: revision } } }, 'merge');
  }

  /** setAnnotations merges annotations into the Deployment (null removes). */
  async setAnnotations(annotations: Record<string, string | null>): Promise<void> {
    this.d = await this.client.patch(DEPLOYMENTS, this.ref, { metadata: { annotations } }, 'merge');
  }

  /** writeCondition sets one condition on the stored status (SetDeploymentCondition + UpdateStatus). */
  async writeCondition(condition: Parameters<typeof setCondition>[1]): Promise<void> {
    const status = deploymentStatus(this.d);
    setCondition(status, condition);
    await this.writeStatus(status);
  }

  /** writeStatus replaces the Deployment's status when it differs (a stale resourceVersion is a Conflict for the caller). */
  async writeStatus(status: DeploymentStatus): Promise<void> {
    if (!statusDiffers(this.d, status)) return;
    const copy = clone(this.d) as KubeObject;
    copy.status = status;
    this.d = await this.client.updateStatus(DEPLOYMENTS, copy);
  }

  private async patchReplicaSet(rs: RS, patch: Record<string, unknown>): Promise<RS> {
    const meta = readMetadata(rs);
    return this.client.patch(REPLICASETS, { namespace: meta.namespace, name: String(meta.name) }, patch, 'merge');
  }

  /**
   * scale is scaleReplicaSet: writes the size and the desired/max-replicas annotations when
   * either is out of date, with a ScalingReplicaSet event when the size changed. `onlyIfResized`
   * is scaleReplicaSetAndRecordEvent (nothing at all when the size is right). Resolves to whether
   * the size changed.
   */
  async scale(step: ScaleStep, onlyIfResized = true): Promise<boolean> {
    const resized = step.from !== step.to;
    if (!resized && (onlyIfResized || !replicasAnnotationsNeedUpdate(step.rs, this.d))) return false;
    await this.patchReplicaSet(step.rs, { metadata: { annotations: replicasAnnotations(this.d) }, spec: { replicas: step.to } });
    if (resized) {
      const direction = step.to > step.from ? 'up' : 'down';
      await this.recorder.normal(this.d, 'ScalingReplicaSet', `Scaled ${direction} replica set ${nameOf(step.rs)} from ${step.from} to ${step.to}`);
    }
    return resized;
  }

  /** scaleAll applies steps in order; resolves to whether any size changed. */
  async scaleAll(steps: readonly ScaleStep[], onlyIfResized = true): Promise<boolean> {
    let any = false;
    for (const step of steps) any = (await this.scale(step, onlyIfResized)) || any;
    return any;
  }

  /** deleteReplicaSets deletes old ReplicaSets (history cleanup); one already gone is fine. */
  async deleteReplicaSets(replicaSets: readonly RS[]): Promise<void> {
    for (const rs of replicaSets) {
      const meta = readMetadata(rs);
      await ignoreNotFound(this.client.delete(REPLICASETS, { namespace: meta.namespace, name: String(meta.name) }, { preconditions: { uid: meta.uid } }));
    }
  }

  /** replicas is the Deployment's `spec.replicas`. */
  get replicas(): number {
    return specReplicas(this.d);
  }
}

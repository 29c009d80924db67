/**
 * Which changes wake the scheduler. There is one scheduler per cluster, so every change maps to
 * the same key; a change that cannot make a pending pod schedulable maps to none (node
 * heartbeats and pod status updates are the bulk of all changes and must stay quiet).
 */
import { deepEqual, isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import type { Change } from '../change.js';
import { isTerminated } from '../../scheduler/podinfo.js';

/** SCHEDULER_NAME is the `spec.schedulerName` this scheduler serves (Kubernetes' default). */
export const SCHEDULER_NAME = 'default-scheduler';

/** SCHEDULER_KEY is the one reconcile key of the default scheduler (its orchestration instance is `scheduler:default`). */
export const SCHEDULER_KEY = 'default';

function specOf(obj: Readonly<KubeObject> | undefined): Record<string, unknown> {
  return obj && isRecord(obj.spec) ? obj.spec : {};
}

/** isPendingPod tells whether `pod` waits for this scheduler: no node yet, our scheduler name, not being deleted. */
export function isPendingPod(pod: Readonly<KubeObject>): boolean {
  const spec = specOf(pod);
  if (spec.nodeName) return false;
  if ((spec.schedulerName ?? SCHEDULER_NAME) !== SCHEDULER_NAME) return false;
  return !readMetadata(pod).deletionTimestamp && !isTerminated(pod);
}

function holdsNode(pod: Readonly<KubeObject> | undefined): boolean {
  return !!pod && !!specOf(pod).nodeName && !isTerminated(pod);
}

/** schedulingView is what of a node decides where pods fit: labels, spec (cordon, taints), allocatable, Ready. */
function schedulingView(node: Readonly<KubeObject>): unknown {
  const status = isRecord(node.status) ? node.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  const ready = conditions.find((c) => isRecord(c) && c.type === 'Ready');
  return [readMetadata(node).labels ?? {}, node.spec ?? {}, status.allocatable ?? status.capacity ?? {}, isRecord(ready) ? ready.status : undefined];
}

/** schedulerKeys maps a change to the scheduler key when it may let a pending pod be placed. Pure. */
export function schedulerKeys(change: Change): string[] {
  const kind = change.value.kind;
  if (kind === 'Pod') {
    if (change.type === 'put' && isPendingPod(change.value)) {
      // A status-only update of a pod already pending (our own Unschedulable condition) changes nothing to try again for.
      const prev = change.prevValue;
      const same = prev && isPendingPod(prev) && deepEqual(prev.spec, change.value.spec) && deepEqual(readMetadata(prev).labels, readMetadata(change.value).labels);
      return same ? [] : [SCHEDULER_KEY];
    }
    // A pod leaving a node (deleted or finished) frees room for pods that did not fit.
    const freed = change.type === 'delete' ? holdsNode(change.value) : holdsNode(change.prevValue) && !holdsNode(change.value);
    return freed ? [SCHEDULER_KEY] : [];
  }
  if (kind === 'Node') {
    if (change.type === 'delete') return [];
    if (!change.prevValue) return [SCHEDULER_KEY];
    return deepEqual(schedulingView(change.prevValue), schedulingView(change.value)) ? [] : [SCHEDULER_KEY];
  }
  return [];
}

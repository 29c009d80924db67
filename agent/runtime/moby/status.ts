/**
 * Container statuses of a moby pod, from what the engine shows (instances, newest first) and what
 * the worker remembers (waiting reasons, probe results). Pure.
 */
import type { IContainerState as V1ContainerState } from 'kubernetes-models/v1/ContainerState';
import type { V1Container, V1ContainerStatus } from '../pod-types.js';
import { terminatedReason } from '../podstatus.js';
import type { Instance } from './containers.js';

/** ContainerMemo is what the worker remembers about one container between syncs. */
export interface ContainerMemo {
  /** Why the next instance is not running yet (set by the last sync; cleared on every sync). */
  waiting?: { reason: string; message?: string };
  pullFailures: number;
  lastPullFailureMs: number;
  /** The instance the probe results below belong to. */
  probeInstance?: string;
  started: boolean;
  /**
   * The readiness probe's verdict; undefined while an adopted instance (one that ran before this
   * agent started) waits for its first verdict: its status is not reported meanwhile, so the Ready
   * the API holds from before the restart stands (a restart must not take ready pods out of
   * Services or a PodDisruptionBudget's healthy count).
   */
  ready: boolean | undefined;
  /** Start a new instance even if the restart policy says no (its image changed). */
  forceRestart: boolean;
}

/** newMemo is a ContainerMemo for a container not seen yet. */
export function newMemo(): ContainerMemo {
  return { pullFailures: 0, lastPullFailureMs: 0, started: false, ready: false, forceRestart: false };
}

/** terminatedState describes an exited instance as Kubernetes does. */
export function terminatedState(instance: Instance): V1ContainerState {
  return {
    terminated: {
      exitCode: instance.exitCode,
      reason: terminatedReason(instance.exitCode, instance.oomKilled),
      ...(instance.error ? { message: instance.error } : {}),
      ...(instance.startedAt ? { startedAt: instance.startedAt } : {}),
      ...(instance.finishedAt ? { finishedAt: instance.finishedAt } : {}),
      containerID: `docker://${instance.id}`,
    },
  };
}

/**
 * containerStatus builds one container's status. `instances` are that container's instances,
 * newest first; `initPending` marks app containers still waiting for init containers.
 */
export function containerStatus(spec: Readonly<V1Container>, instances: readonly Instance[], memo: ContainerMemo, initPending: boolean): V1ContainerStatus {
  const [latest, previous] = instances;
  const status: V1ContainerStatus = {
    name: spec.name,
    image: spec.image ?? '',
    imageID: latest ? `docker://${latest.imageID}` : '',
    restartCount: latest?.restart ?? 0,
    ready: false,
    started: false,
  };
  if (latest && !latest.created) status.containerID = `docker://${latest.id}`;
  const ownProbes = memo.probeInstance === latest?.id;
  if (!latest || latest.created) {
    status.state = { waiting: memo.waiting ?? { reason: initPending ? 'PodInitializing' : 'ContainerCreating' } };
    if (previous) status.lastState = terminatedState(previous);
  } else if (latest.running) {
    status.state = { running: { ...(latest.startedAt ? { startedAt: latest.startedAt } : {}) } };
    status.started = ownProbes ? memo.started : !spec.startupProbe;
    status.ready = ownProbes ? memo.ready === true : !spec.readinessProbe && !spec.startupProbe;
    if (previous) status.lastState = terminatedState(previous);
  } else if (memo.waiting) {
    status.state = { waiting: memo.waiting };
    status.lastState = terminatedState(latest);
  } else {
    status.state = terminatedState(latest);
    if (previous) status.lastState = terminatedState(previous);
  }
  status.lastState ??= {};
  return status;
}

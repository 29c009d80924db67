/**
 * Pure pod-lifecycle rules shared by every runtime: the pod phase and conditions as the kubelet
 * computes them from container statuses (pkg/kubelet/kubelet_pods.go getPhase,
 * pkg/kubelet/status/generate.go), restart decisions and the back-off between restarts.
 */
import type { V1ContainerStatus, V1Pod, V1PodStatus } from './pod-types.js';
import type { IPodCondition as V1PodCondition } from 'kubernetes-models/v1/PodCondition';

export type { V1PodCondition };

/** PodPhase is the pod phase a runtime reports ("Unknown" is the control plane's to set). */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** RestartPolicy is the pod's spec.restartPolicy (default Always). */
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** BackoffPolicy is the restart and image-pull back-off: base doubling per restart up to max. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** DEFAULT_BACKOFF is the kubelet's: 10 s doubling up to 5 min. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 10_000, maxMs: 300_000 };

/** restartPolicyOf returns the pod's restart policy with Kubernetes' default. */
export function restartPolicyOf(pod: Readonly<V1Pod>): RestartPolicy {
  return (pod.spec?.restartPolicy as RestartPolicy | undefined) ?? 'Always';
}

/**
 * restartDelayMs is how long to wait, after an instance exited, before starting the next one. The
 * first restart is immediate; then base, 2·base, 4·base … capped at max (the kubelet's
 * CrashLoopBackOff). An instance that ran for more than 2·max resets the back-off, as the kubelet
 * forgets back-off entries idle that long.
 */
export function restartDelayMs(restartCount: number, policy: BackoffPolicy, ranForMs = 0): number {
  if (restartCount <= 0 || ranForMs > 2 * policy.maxMs) return 0;
  return Math.min(policy.baseMs * 2 ** Math.min(restartCount - 1, 30), policy.maxMs);
}

/** pullRetryDelayMs is how long to wait after the n-th failed pull (n ≥ 1) before trying again. */
export function pullRetryDelayMs(failures: number, policy: BackoffPolicy): number {
  if (failures <= 0) return 0;
  return Math.min(policy.baseMs * 2 ** Math.min(failures - 1, 30), policy.maxMs);
}

/**
 * shouldRestart says whether a container that exited with `exitCode` runs again. Init containers
 * restart on failure unless the policy is Never, and never after success.
 */
export function shouldRestart(policy: RestartPolicy, exitCode: number, isInit = false): boolean {
  if (isInit) return exitCode !== 0 && policy !== 'Never';
  if (policy === 'Always') return true;
  return policy === 'OnFailure' && exitCode !== 0;
}

/** terminatedReason is the reason the kubelet gives a terminated container. */
export function terminatedReason(exitCode: number, oomKilled: boolean): string {
  if (oomKilled) return 'OOMKilled';
  return exitCode === 0 ? 'Completed' : 'Error';
}

function initFailed(status: V1ContainerStatus): boolean {
  const exit = status.state?.terminated?.exitCode ?? status.lastState?.terminated?.exitCode;
  return !status.state?.running && exit !== undefined && exit !== 0;
}

function initDone(status: V1ContainerStatus | undefined): boolean {
  return status?.state?.terminated?.exitCode === 0;
}

/** podPhase computes the phase from container statuses, as the kubelet's getPhase does. */
export function podPhase(pod: Readonly<V1Pod>, init: readonly V1ContainerStatus[], containers: readonly V1ContainerStatus[]): PodPhase {
  const policy = restartPolicyOf(pod);
  const byName = (list: readonly V1ContainerStatus[], name: string) => list.find((s) => s.name === name);
  let pendingInit = 0;
  let failedInit = 0;
  for (const spec of pod.spec?.initContainers ?? []) {
    const status = byName(init, spec.name);
    if (initDone(status)) continue;
    if (status && initFailed(status)) failedInit++;
    else pendingInit++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit + failedInit > 0) return 'Pending';

  let running = 0, waiting = 0, stopped = 0, succeeded = 0, unknown = 0;
  for (const spec of pod.spec?.containers ?? []) {
    const state = byName(containers, spec.name);
    if (!state?.state) unknown++;
    else if (state.state.running) running++;
    else if (state.state.terminated) {
      stopped++;
      if (state.state.terminated.exitCode === 0) succeeded++;
    } else if (state.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, reason: string | undefined, message: string | undefined): V1PodCondition {
  const c: V1PodCondition = { type, status: ok ? 'True' : 'False' };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

/**
 * podConditions computes Initialized, Ready, ContainersReady and PodScheduled (the kubelet's
 * order). lastTransitionTime is carried over from `previous` while a condition keeps its status.
 */
export function podConditions(
  pod: Readonly<V1Pod>,
  phase: PodPhase,
  init: readonly V1ContainerStatus[],
  containers: readonly V1ContainerStatus[],
  now: string,
  previous: readonly V1PodCondition[] = [],
): V1PodCondition[] {
  const names = (list: string[]) => `[${list.join(' ')}]`;
  const incomplete = (pod.spec?.initContainers ?? []).map((c) => c.name).filter((n) => !initDone(init.find((s) => s.name === n)));
  const initialized = incomplete.length === 0 || phase === 'Running' || phase === 'Succeeded';
  const unready = (pod.spec?.containers ?? []).map((c) => c.name).filter((n) => !containers.find((s) => s.name === n)?.ready);
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const notReadyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = completed ? undefined : `containers with unready status: ${names(unready)}`;
  const ready = unready.length === 0 && !completed;
  const list = [
    condition('Initialized', initialized, 'ContainersNotInitialized', `containers with incomplete status: ${names(incomplete)}`),
    condition('Ready', ready, notReadyReason, notReadyMessage),
    condition('ContainersReady', ready, notReadyReason, notReadyMessage),
    condition('PodScheduled', true, undefined, undefined),
  ];
  for (const c of list) {
    const before = previous.find((p) => p.type === c.type);
    c.lastTransitionTime = before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : now;
  }
  return list;
}

/** PodStatusInputs is what a runtime knows about a pod, from which assemblePodStatus builds its status. */
export interface PodStatusInputs {
  pod: Readonly<V1Pod>;
  initContainerStatuses: V1ContainerStatus[];
  containerStatuses: V1ContainerStatus[];
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  /** The status last reported, for condition transition times. */
  previous?: Readonly<V1PodStatus>;
  now: string;
}

/** assemblePodStatus builds the full pod status the agent writes to pods/status. */
export function assemblePodStatus(inputs: PodStatusInputs): V1PodStatus {
  const { pod, initContainerStatuses: init, containerStatuses: containers } = inputs;
  const phase = podPhase(pod, init, containers);
  const status: V1PodStatus = {
    phase,
    conditions: podConditions(pod, phase, init, containers, inputs.now, inputs.previous?.conditions),
  };
  if (inputs.hostIP) {
    status.hostIP = inputs.hostIP;
    status.hostIPs = [{ ip: inputs.hostIP }];
  }
  if (inputs.podIP) {
    status.podIP = inputs.podIP;
    status.podIPs = [{ ip: inputs.podIP }];
  }
  if (inputs.startTime) status.startTime = inputs.startTime;
  if (init.length > 0) status.initContainerStatuses = init;
  status.containerStatuses = containers;
  return status;
}

/** sameStatus compares two statuses for change notification (key order independent enough: both come from assemblePodStatus). */
export function sameStatus(a: Readonly<V1PodStatus> | undefined, b: Readonly<V1PodStatus>): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Which container instance's log a `pods/log` request means, from the pod alone: the container
 * (defaulted when the pod has one), and the instance (restart number) its status points at. The
 * checks and their messages follow kube-apiserver's pod LogLocation (container name) and the
 * kubelet's validateContainerLogStatus (container state), so kubectl prints what it prints there.
 *
 * Instance numbers are restart numbers: the agent names each instance's stream by the container's
 * restartCount when that instance started (0 for the first), as the kubelet labels containers.
 * So a running or terminated container is instance `restartCount`; a container waiting to restart
 * (CrashLoopBackOff) still reports its dead instance's count, and that instance is the one shown.
 */
import { ApiError, badRequest } from '../api/status.js';

type Json = Record<string, unknown>;

const asRecord = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const asList = (v: unknown): Json[] => (Array.isArray(v) ? v.map(asRecord).filter((x): x is Json => x !== undefined) : []);
const namesOf = (list: Json[]) => list.map((c) => String(c.name ?? ''));

/** LogInstance is the stream a log request reads and whether it may still grow. */
export interface LogInstance {
  container: string;
  restart: number;
  /** The instance may still write (running, or no status reported yet): following it waits for more. */
  live: boolean;
}

/** chooseContainer returns the container a request names, or the only one; 400 BadRequest otherwise, worded as Kubernetes does. */
export function chooseContainer(pod: Json, podName: string, requested: string | undefined): string {
  const spec = asRecord(pod.spec) ?? {};
  const containers = asList(spec.containers);
  const inits = asList(spec.initContainers);
  const ephemeral = asList(spec.ephemeralContainers);
  if (!requested) {
    if (containers.length === 1) return String(containers[0]!.name);
    let message = `a container name must be specified for pod ${podName}, choose one of: [${namesOf(containers).join(' ')}]`;
    if (inits.length > 0) message += ` or one of the init containers: [${namesOf(inits).join(' ')}]`;
    if (ephemeral.length > 0) message += ` or one of the ephemeral containers: [${namesOf(ephemeral).join(' ')}]`;
    throw badRequest(message);
  }
  if (![...containers, ...inits, ...ephemeral].some((c) => c.name === requested)) {
    throw badRequest(`container ${requested} is not valid for pod ${podName}`);
  }
  return requested;
}

/** containerStatusOf finds a container's status among the pod's (regular, init, ephemeral) statuses. */
export function containerStatusOf(pod: Json, container: string): Json | undefined {
  const status = asRecord(pod.status) ?? {};
  for (const field of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    const found = asList(status[field]).find((s) => s.name === container);
    if (found) return found;
  }
  return undefined;
}

function waitingMessage(container: string, podName: string, reason: string): ApiError {
  if (reason === 'ErrImagePull') return badRequest(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
  if (reason === 'ImagePullBackOff') return badRequest(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
  return badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
}

/**
 * logInstance picks the instance to read: the current one, or with `previous` the one before it
 * (400 `previous terminated container "c" in pod "p" not found` when there is none). A container
 * without a status yet is read as instance 0 (its agent may not have reported it), and is live.
 */
export function logInstance(pod: Json, podName: string, container: string, previous: boolean): LogInstance {
  const cs = containerStatusOf(pod, container);
  if (!cs) {
    if (previous) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return { container, restart: 0, live: true };
  }
  const restartCount = typeof cs.restartCount === 'number' ? cs.restartCount : 0;
  const state = asRecord(cs.state) ?? {};
  const lastTerminated = asRecord(asRecord(cs.lastState)?.terminated);
  if (previous) {
    // While waiting to restart, the count still names the dead instance: the previous one is that one.
    const restart = state.waiting ? restartCount : restartCount - 1;
    if (!lastTerminated || restart < 0) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return { container, restart, live: false };
  }
  if (state.running) return { container, restart: restartCount, live: true };
  if (state.terminated || lastTerminated) return { container, restart: restartCount, live: false };
  const waiting = asRecord(state.waiting);
  if (waiting) throw waitingMessage(container, podName, String(waiting.reason ?? 'ContainerCreating'));
  return { container, restart: restartCount, live: true };
}

/** instanceEnded tells whether `instance` can no longer grow, given the pod now (undefined: the pod is gone). */
export function instanceEnded(pod: Json | undefined, uid: string, instance: LogInstance): boolean {
  if (!pod || asRecord(pod.metadata)?.uid !== uid) return true;
  const cs = containerStatusOf(pod, instance.container);
  if (!cs) return false;
  const restartCount = typeof cs.restartCount === 'number' ? cs.restartCount : 0;
  const state = asRecord(cs.state) ?? {};
  return restartCount > instance.restart || state.terminated !== undefined || state.waiting !== undefined && asRecord(cs.lastState)?.terminated !== undefined;
}

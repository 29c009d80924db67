/**
 * Resource arithmetic for scheduling: what a pod requests and what a node can hold, as exact
 * integers (millicores, bytes, pod slots), computed as kube-scheduler's NodeResourcesFit does.
 */
import { isRecord, type KubeObject } from '../api/objects.js';
import { integerValue, milliValue } from '../api/quantity.js';

/** Resources are amounts of the three resources the scheduler accounts: millicores, bytes, pods. */
export interface Resources {
  milliCpu: number;
  memory: number;
  pods: number;
}

/**
 * DEFAULT_MILLI_CPU_REQUEST and DEFAULT_MEMORY_REQUEST stand in for a zero request when scoring
 * (kube-scheduler's non-zero defaults), so pods without requests still spread by load. They
 * never count for fitting.
 */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

type Quantities = Record<string, unknown>;

function requestsOf(container: unknown): Quantities {
  const resources = isRecord(container) && isRecord(container.resources) ? container.resources : {};
  // Kubernetes defaults requests to limits where a limit is set and the request is not.
  const limits = isRecord(resources.limits) ? resources.limits : {};
  const requests = isRecord(resources.requests) ? resources.requests : {};
  return { ...limits, ...requests };
}

function amount(q: Quantities): { milliCpu: number; memory: number } {
  return { milliCpu: milliValue(q.cpu as string | undefined), memory: integerValue(q.memory as string | undefined) };
}

/**
 * podRequests is what `pod` asks of a node: the sum over its containers, at least the largest
 * init container (restartable "sidecar" init containers keep running, so they add to both), plus
 * `spec.overhead`; and one pod slot.
 */
export function podRequests(pod: Readonly<KubeObject>): Resources {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  const inits = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  let cpu = 0;
  let memory = 0;
  for (const c of containers) {
    const a = amount(requestsOf(c));
    cpu += a.milliCpu;
    memory += a.memory;
  }
  let sidecarCpu = 0;
  let sidecarMemory = 0;
  let initCpu = 0;
  let initMemory = 0;
  for (const c of inits) {
    const a = amount(requestsOf(c));
    if (isRecord(c) && c.restartPolicy === 'Always') {
      sidecarCpu += a.milliCpu;
      sidecarMemory += a.memory;
      continue;
    }
    // A regular init container runs alongside the sidecars started before it.
    initCpu = Math.max(initCpu, a.milliCpu + sidecarCpu);
    initMemory = Math.max(initMemory, a.memory + sidecarMemory);
  }
  const overhead = amount(isRecord(spec.overhead) ? spec.overhead : {});
  return {
    milliCpu: Math.max(cpu + sidecarCpu, initCpu) + overhead.milliCpu,
    memory: Math.max(memory + sidecarMemory, initMemory) + overhead.memory,
    pods: 1,
  };
}

/** nonZeroRequests is `requests` with kube-scheduler's defaults in place of zero cpu or memory (for scoring only). */
export function nonZeroRequests(requests: Resources): Resources {
  return {
    milliCpu: requests.milliCpu || DEFAULT_MILLI_CPU_REQUEST,
    memory: requests.memory || DEFAULT_MEMORY_REQUEST,
    pods: requests.pods,
  };
}

/** nodeAllocatable is `status.allocatable` (else `status.capacity`) of `node`; absent resources are 0. */
export function nodeAllocatable(node: Readonly<KubeObject>): Resources {
  const status = isRecord(node.status) ? node.status : {};
  const q = isRecord(status.allocatable) ? status.allocatable : isRecord(status.capacity) ? status.capacity : {};
  return { milliCpu: milliValue(q.cpu as string), memory: integerValue(q.memory as string), pods: integerValue(q.pods as string) };
}

/** addResources adds `b` into `a` in place (`sign` -1 subtracts). */
export function addResources(a: Resources, b: Readonly<Resources>, sign = 1): void {
  a.milliCpu += sign * b.milliCpu;
  a.memory += sign * b.memory;
  a.pods += sign * b.pods;
}

/** zeroResources is a fresh all-zero amount. */
export function zeroResources(): Resources {
  return { milliCpu: 0, memory: 0, pods: 0 };
}

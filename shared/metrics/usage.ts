/**
 * Resource usage as nodes report it and the Metrics API serves it: the wire format of a node's
 * report (one object per node, written by its agent every resolution period, see
 * shared/apiserver/metricsreport.ts), the rate computation that turns two cumulative CPU samples
 * into nanocores, and the quantity spellings metrics-server uses (`123456n`, `1234Ki`).
 */
import { isRecord } from '../api/objects.js';

/** NODE_METRICS_REPORT_PATH is the collection agents PUT their node's report into (`<path>/<node>`). */
export const NODE_METRICS_REPORT_PATH = '/apis/coracle.io/v1/nodemetricsreports';

/** METRICS_RESOLUTION_MS is how often an agent reports (metrics-server's default --metric-resolution, 15 s). */
export const METRICS_RESOLUTION_MS = 15_000;
/** METRICS_MAX_AGE_MS bounds how old a report may be and still be served: three missed reports. */
export const METRICS_MAX_AGE_MS = 3 * METRICS_RESOLUTION_MS + 5_000;

/** Usage is what a node, pod or container uses: CPU as a rate in nanocores, memory as its working set in bytes. */
export interface Usage {
  cpuNanoCores: number;
  memoryBytes: number;
}

/** ContainerUsage is one container's usage. */
export interface ContainerUsage extends Usage {
  name: string;
}

/** PodUsage is one pod's containers' usage; `uid` ties it to the pod it was measured on. */
export interface PodUsage {
  namespace: string;
  name: string;
  uid: string;
  containers: ContainerUsage[];
}

/**
 * NodeMetricsReport is what an agent sends for its node: `timestamp` is the end of the sampling
 * window (the agent's clock), `windowSeconds` its length; `usage` is the node's total; `pods` every
 * pod it runs that has a measured window. The API server stamps `receivedAt` (its own clock, for
 * the staleness bound) when it stores it.
 */
export interface NodeMetricsReport {
  apiVersion: 'coracle.io/v1';
  kind: 'NodeMetricsReport';
  metadata: { name: string };
  timestamp: string;
  windowSeconds: number;
  usage: Usage;
  pods: PodUsage[];
  receivedAt?: string;
}

/**
 * CpuSample is a cumulative CPU reading: `usageNanoSeconds` of CPU time consumed since the
 * container (or process) started, read at `atMs` (epoch milliseconds).
 */
export interface CpuSample {
  usageNanoSeconds: number;
  atMs: number;
}

/**
 * cpuRateNanoCores is the CPU rate between two cumulative samples, in nanocores (1e9 = one core
 * busy all the time): Δusage / Δtime, as cAdvisor and metrics-server compute it. It is undefined
 * when the samples cannot give a rate: no time passed, time ran backwards, or the counter went
 * down (the container restarted and its counter began again).
 */
export function cpuRateNanoCores(previous: CpuSample, current: CpuSample): number | undefined {
  const elapsedNs = (current.atMs - previous.atMs) * 1e6;
  const used = current.usageNanoSeconds - previous.usageNanoSeconds;
  if (!(elapsedNs > 0) || used < 0) return undefined;
  return Math.round((used / elapsedNs) * 1e9);
}

/** cpuQuantity spells nanocores as metrics-server does: `123456n`. */
export function cpuQuantity(nanoCores: number): string {
  return `${Math.max(0, Math.round(nanoCores))}n`;
}

/** memoryQuantity spells bytes as metrics-server does: kibibytes, `1234Ki`. */
export function memoryQuantity(bytes: number): string {
  return `${Math.max(0, Math.floor(bytes / 1024))}Ki`;
}

/** windowDuration spells a window in seconds as a Go duration, as metrics-server's `window` reads (`15s`, `14.982s`). */
export function windowDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  return `${ms / 1000}s`;
}

function isUsage(value: unknown): value is Usage {
  return isRecord(value) && isCount(value.cpuNanoCores) && isCount(value.memoryBytes);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/**
 * reportProblems lists what is wrong with a report body (empty: it is well-formed), as field
 * paths with a message, for a 422 Invalid answer.
 */
export function reportProblems(body: unknown): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (!isRecord(body)) return [{ field: '', message: 'must be an object' }];
  if (body.kind !== 'NodeMetricsReport') problems.push({ field: 'kind', message: 'must be NodeMetricsReport' });
  if (!isRecord(body.metadata) || typeof body.metadata.name !== 'string' || body.metadata.name === '') problems.push({ field: 'metadata.name', message: 'Required value' });
  if (typeof body.timestamp !== 'string' || Number.isNaN(Date.parse(body.timestamp))) problems.push({ field: 'timestamp', message: 'must be an RFC 3339 time' });
  if (!isCount(body.windowSeconds) || body.windowSeconds === 0) problems.push({ field: 'windowSeconds', message: 'must be a positive number' });
  if (!isUsage(body.usage)) problems.push({ field: 'usage', message: 'must hold cpuNanoCores and memoryBytes, non-negative numbers' });
  if (!Array.isArray(body.pods)) {
    problems.push({ field: 'pods', message: 'must be a list' });
    return problems;
  }
  body.pods.forEach((pod: unknown, i) => {
    const at = `pods[${i}]`;
    if (!isRecord(pod)) return problems.push({ field: at, message: 'must be an object' });
    for (const key of ['namespace', 'name', 'uid'] as const) {
      if (typeof pod[key] !== 'string' || pod[key] === '') problems.push({ field: `${at}.${key}`, message: 'Required value' });
    }
    if (!Array.isArray(pod.containers)) return problems.push({ field: `${at}.containers`, message: 'must be a list' });
    pod.containers.forEach((c: unknown, j) => {
      if (!isRecord(c) || typeof c.name !== 'string' || c.name === '' || !isUsage(c)) {
        problems.push({ field: `${at}.containers[${j}]`, message: 'must hold name, cpuNanoCores and memoryBytes' });
      }
    });
  });
  return problems;
}

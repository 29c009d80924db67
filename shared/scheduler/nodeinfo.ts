/**
 * NodeInfo: a node with what is already placed on it (requested resources, pods, per-controller
 * pod counts), kube-scheduler's framework.NodeInfo. The batch scheduler adds each pod it assigns,
 * so later decisions in the same batch see it.
 */
import { isRecord, readMetadata, type KubeObject } from '../api/objects.js';
import { addResources, nodeAllocatable, zeroResources, type Resources } from './resources.js';
import type { PodInfo } from './podinfo.js';

/** Taint is core/v1 Taint. */
export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** ZONE_LABEL and HOSTNAME_LABEL are the well-known topology labels. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** NodeInfo is a node and its placed pods. Mutated only through `addPod`. */
export interface NodeInfo {
  node: Readonly<KubeObject>;
  name: string;
  labels: Readonly<Record<string, string>>;
  zone?: string;
  allocatable: Resources;
  /** Sum of the placed pods' requests (what fitting checks). */
  requested: Resources;
  /** Sum of the placed pods' requests with scoring defaults (what resource scores read). */
  nonZeroRequested: Resources;
  pods: PodInfo[];
  /** Placed pods per controller uid. */
  controllerCounts: Map<string, number>;
  taints: Taint[];
  unschedulable: boolean;
  /** Condition Ready is True. */
  ready: boolean;
}

function isReady(node: Readonly<KubeObject>): boolean {
  const status = isRecord(node.status) ? node.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  return conditions.some((c) => isRecord(c) && c.type === 'Ready' && c.status === 'True');
}

/** nodeInfo builds the NodeInfo of `node` with nothing placed yet. */
export function nodeInfo(node: Readonly<KubeObject>): NodeInfo {
  const meta = readMetadata(node);
  const spec = isRecord(node.spec) ? node.spec : {};
  const labels = meta.labels ?? {};
  return {
    node,
    name: String(meta.name ?? ''),
    labels,
    zone: labels[ZONE_LABEL],
    allocatable: nodeAllocatable(node),
    requested: zeroResources(),
    nonZeroRequested: zeroResources(),
    pods: [],
    controllerCounts: new Map(),
    taints: Array.isArray(spec.taints) ? (spec.taints.filter(isRecord) as unknown as Taint[]) : [],
    unschedulable: spec.unschedulable === true,
    ready: isReady(node),
  };
}

/** addPod places `pod` on `node`: its requests, its pod entry and its controller count. */
export function addPod(node: NodeInfo, pod: PodInfo): void {
  addResources(node.requested, pod.requests);
  addResources(node.nonZeroRequested, pod.nonZeroRequests);
  node.pods.push(pod);
  if (pod.controllerUid) node.controllerCounts.set(pod.controllerUid, (node.controllerCounts.get(pod.controllerUid) ?? 0) + 1);
}

/**
 * ClusterState: the scheduler's in-memory snapshot for one batch — every node with the pods
 * placed on it, per-zone controller counts, and the placed pods that carry anti-affinity.
 * `assume` places a pod the batch just assigned, so no later decision overcommits a node.
 */
import type { KubeObject } from '../api/objects.js';
import { addPod, nodeInfo, type NodeInfo } from './nodeinfo.js';
import { isTerminated, podInfo, type PodInfo } from './podinfo.js';

/** PlacedPod is a pod on a node. */
export interface PlacedPod {
  pod: PodInfo;
  node: NodeInfo;
}

/** ClusterState is the snapshot; build it with `clusterState`. */
export class ClusterState {
  readonly nodes: NodeInfo[];
  readonly byName = new Map<string, NodeInfo>();
  /** zone → controller uid → placed pods. */
  readonly zoneControllerCounts = new Map<string, Map<string, number>>();
  /** Placed pods with required anti-affinity terms (their terms constrain newcomers). */
  readonly withAntiAffinity: PlacedPod[] = [];

  constructor(nodes: readonly Readonly<KubeObject>[]) {
    this.nodes = nodes.map(nodeInfo);
    for (const n of this.nodes) this.byName.set(n.name, n);
  }

  /** assume places `pod` on `node` for the rest of the batch. */
  assume(pod: PodInfo, node: NodeInfo): void {
    addPod(node, pod);
    if (pod.controllerUid && node.zone !== undefined) {
      let counts = this.zoneControllerCounts.get(node.zone);
      if (!counts) this.zoneControllerCounts.set(node.zone, (counts = new Map()));
      counts.set(pod.controllerUid, (counts.get(pod.controllerUid) ?? 0) + 1);
    }
    if (pod.antiAffinity.length > 0) this.withAntiAffinity.push({ pod, node });
  }

  /** zoneCount is how many pods of `controllerUid` are placed in `zone`. */
  zoneCount(zone: string, controllerUid: string): number {
    return this.zoneControllerCounts.get(zone)?.get(controllerUid) ?? 0;
  }
}

/**
 * clusterState builds the snapshot of `nodes` with `boundPods` placed (pods bound to a node not in
 * the list, and finished pods, hold nothing and are skipped).
 */
export function clusterState(nodes: readonly Readonly<KubeObject>[], boundPods: readonly Readonly<KubeObject>[]): ClusterState {
  const state = new ClusterState(nodes);
  for (const pod of boundPods) {
    const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    const node = nodeName ? state.byName.get(nodeName) : undefined;
    if (!node || isTerminated(pod)) continue;
    state.assume(podInfo(pod), node);
  }
  return state;
}

/**
 * Score plugins: each rates the feasible nodes for a pod from 0 to 100 (higher is better), over
 * the whole feasible list at once so it can normalize (kube-scheduler's Score + NormalizeScore).
 * `selectNode` adds them up by weight and breaks ties by a hash of pod uid and node name, so
 * equal nodes share the load instead of the first one taking everything.
 */
import type { ClusterState } from './cluster.js';
import type { NodeInfo } from './nodeinfo.js';
import type { PodInfo } from './podinfo.js';
import { countUntoleratedTaints } from './taints.js';

/** ScorePlugin rates `nodes` for `pod`: one score in [0, 100] per node, in order. */
export interface ScorePlugin {
  name: string;
  weight: number;
  score(pod: PodInfo, nodes: readonly NodeInfo[], cluster: ClusterState): ArrayLike<number>;
}

/** MAX_SCORE is the best score of one plugin. */
export const MAX_SCORE = 100;

function freeFraction(requested: number, allocatable: number): number {
  if (allocatable <= 0 || requested > allocatable) return 0;
  return (allocatable - requested) / allocatable;
}

function usedFraction(requested: number, allocatable: number): number {
  if (allocatable <= 0) return 1;
  return Math.min(1, requested / allocatable);
}

/** leastAllocated prefers nodes with the most cpu and memory left after placing the pod (equal weights). */
export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  weight: 1,
  score(pod, nodes) {
    return nodes.map((n) => {
      const cpu = freeFraction(n.nonZeroRequested.milliCpu + pod.nonZeroRequests.milliCpu, n.allocatable.milliCpu);
      const memory = freeFraction(n.nonZeroRequested.memory + pod.nonZeroRequests.memory, n.allocatable.memory);
      return (MAX_SCORE * (cpu + memory)) / 2;
    });
  },
};

/** balancedAllocation prefers nodes whose cpu and memory use stay close to each other after placing the pod. */
export const balancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  weight: 1,
  score(pod, nodes) {
    return nodes.map((n) => {
      const cpu = usedFraction(n.nonZeroRequested.milliCpu + pod.nonZeroRequests.milliCpu, n.allocatable.milliCpu);
      const memory = usedFraction(n.nonZeroRequested.memory + pod.nonZeroRequests.memory, n.allocatable.memory);
      // The standard deviation of two values is half their distance.
      return MAX_SCORE * (1 - Math.abs(cpu - memory) / 2);
    });
  },
};

/** ZONE_WEIGHT is how much the zone spread counts against the node spread (kube-scheduler's SelectorSpread: 2/3). */
const ZONE_WEIGHT = 2 / 3;

/**
 * controllerSpread prefers nodes, and zones, holding fewer pods of the pod's controller (same
 * controller ownerReference), as kube-scheduler's SelectorSpread. Pods without a controller: 0.
 */
export const controllerSpread: ScorePlugin = {
  name: 'SelectorSpread',
  weight: 2,
  score(pod, nodes, cluster) {
    const owner = pod.controllerUid;
    if (!owner) return new Float64Array(nodes.length);
    const nodeCounts = nodes.map((n) => n.controllerCounts.get(owner) ?? 0);
    const maxNode = Math.max(0, ...nodeCounts);
    let maxZone = 0;
    let haveZones = false;
    const zoneCounts = nodes.map((n) => {
      if (n.zone === undefined) return 0;
      haveZones = true;
      const c = cluster.zoneCount(n.zone, owner);
      maxZone = Math.max(maxZone, c);
      return c;
    });
    return nodes.map((n, i) => {
      const nodeScore = maxNode > 0 ? (MAX_SCORE * (maxNode - nodeCounts[i])) / maxNode : MAX_SCORE;
      if (!haveZones || n.zone === undefined) return nodeScore;
      const zoneScore = maxZone > 0 ? (MAX_SCORE * (maxZone - zoneCounts[i])) / maxZone : MAX_SCORE;
      return nodeScore * (1 - ZONE_WEIGHT) + zoneScore * ZONE_WEIGHT;
    });
  },
};

/** preferNoScheduleTaints prefers nodes with fewer PreferNoSchedule taints the pod does not tolerate. */
export const preferNoScheduleTaints: ScorePlugin = {
  name: 'TaintToleration',
  weight: 3,
  score(pod, nodes) {
    const counts = nodes.map((n) => (n.taints.length ? countUntoleratedTaints(n.taints, pod.tolerations, 'PreferNoSchedule') : 0));
    const max = Math.max(0, ...counts);
    return counts.map((c) => (max > 0 ? MAX_SCORE * (1 - c / max) : MAX_SCORE));
  },
};

/** SCORES are the score plugins with their default weights. */
export const SCORES: readonly ScorePlugin[] = [leastAllocated, balancedAllocation, controllerSpread, preferNoScheduleTaints];

/** tieBreakHash is FNV-1a of `podUid/nodeName`: a fixed but well-mixed order among equal nodes, different per pod. */
export function tieBreakHash(podUid: string, nodeName: string): number {
  let h = 0x811c9dc5;
  const text = `${podUid}/${nodeName}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** totalScores is the weighted sum of `plugins` for each of `nodes`. */
export function totalScores(pod: PodInfo, nodes: readonly NodeInfo[], cluster: ClusterState, plugins: readonly ScorePlugin[] = SCORES): Float64Array {
  const totals = new Float64Array(nodes.length);
  for (const plugin of plugins) {
    const scores = plugin.score(pod, nodes, cluster);
    for (let i = 0; i < nodes.length; i++) totals[i] += plugin.weight * scores[i];
  }
  return totals;
}

/** selectNode picks the best-scoring of `nodes` (non-empty) for `pod`; ties go by `tieBreakHash`. */
export function selectNode(pod: PodInfo, nodes: readonly NodeInfo[], cluster: ClusterState, plugins: readonly ScorePlugin[] = SCORES): NodeInfo {
  if (nodes.length === 1) return nodes[0];
  const totals = totalScores(pod, nodes, cluster, plugins);
  let best = 0;
  let bestHash = -1;
  for (let i = 0; i < nodes.length; i++) {
    // Scores within a rounding error are equal.
    const diff = totals[i] - totals[best];
    if (diff > 1e-9) {
      best = i;
      bestHash = -1;
    } else if (diff >= -1e-9) {
      if (bestHash < 0) bestHash = tieBreakHash(pod.uid, nodes[best].name);
      const h = tieBreakHash(pod.uid, nodes[i].name);
      if (h > bestHash) {
        best = i;
        bestHash = h;
      }
    }
  }
  return nodes[best];
}

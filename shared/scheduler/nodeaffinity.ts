/** nodeSelector and required node affinity, as kube-scheduler's NodeAffinity filter matches them. */
import { matchesLabels } from '../api/selectors.js';
import type { NodeInfo } from './nodeinfo.js';
import type { NodeSelectorTerm, PodInfo } from './podinfo.js';

/** matchesNodeSelector tells whether every `nodeSelector` label is on the node with that value. */
export function matchesNodeSelector(pod: PodInfo, node: NodeInfo): boolean {
  for (const key in pod.nodeSelector) if (node.labels[key] !== pod.nodeSelector[key]) return false;
  return true;
}

/** matchesNodeSelectorTerm tells whether `node` satisfies a term: all its expressions and fields. An empty term matches nothing. */
export function matchesNodeSelectorTerm(term: NodeSelectorTerm, node: NodeInfo): boolean {
  if (term.expressions.length === 0 && term.fields.length === 0) return false;
  if (!matchesLabels(term.expressions, node.labels)) return false;
  // matchFields supports only metadata.name (as Kubernetes).
  return term.fields.every((f) => f.key === 'metadata.name' && matchesLabels([{ ...f, key: 'name' }], { name: node.name }));
}

/** matchesRequiredNodeAffinity tells whether `node` satisfies one of the pod's required terms (true when it has none). */
export function matchesRequiredNodeAffinity(pod: PodInfo, node: NodeInfo): boolean {
  const terms = pod.requiredNodeAffinity;
  if (!terms) return true;
  return terms.some((t) => matchesNodeSelectorTerm(t, node));
}

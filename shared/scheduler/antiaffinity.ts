/**
 * Required pod anti-affinity (kube-scheduler's InterPodAffinity filter, anti-affinity half), in
 * both directions: the incoming pod's terms against placed pods, and placed pods' terms against
 * the incoming pod. A term forbids every topology domain (the node label value of its
 * `topologyKey`) that holds a matching pod; a node without that label is not constrained.
 */
import { matchesLabels } from '../api/selectors.js';
import type { ClusterState } from './cluster.js';
import type { NodeInfo } from './nodeinfo.js';
import type { AffinityTerm, PodInfo } from './podinfo.js';

/** ForbiddenDomains maps a topology key to the label values a pod may not be placed in. */
export type ForbiddenDomains = Map<string, Set<string>>;

/** AntiAffinityDomains are the domains closed to one pod: by its own terms, and by placed pods' terms. */
export interface AntiAffinityDomains {
  own: ForbiddenDomains;
  existing: ForbiddenDomains;
}

/** termMatches tells whether `term` (of a pod in `termNamespace`'s terms) selects `pod`. */
export function termMatches(term: AffinityTerm, pod: PodInfo): boolean {
  if (term.namespaces !== 'all' && !term.namespaces.has(pod.namespace)) return false;
  return matchesLabels(term.selector, pod.labels);
}

function forbid(domains: ForbiddenDomains, key: string, node: NodeInfo): void {
  const value = node.labels[key];
  if (value === undefined) return;
  let values = domains.get(key);
  if (!values) domains.set(key, (values = new Set()));
  values.add(value);
}

/** antiAffinityDomains computes the closed domains for `pod` from the cluster as it stands. */
export function antiAffinityDomains(pod: PodInfo, cluster: ClusterState): AntiAffinityDomains {
  const own: ForbiddenDomains = new Map();
  const existing: ForbiddenDomains = new Map();
  if (pod.antiAffinity.length > 0) {
    for (const node of cluster.nodes) {
      for (const term of pod.antiAffinity) {
        if (node.labels[term.topologyKey] === undefined) continue;
        if (node.pods.some((placed) => termMatches(term, placed))) forbid(own, term.topologyKey, node);
      }
    }
  }
  for (const placed of cluster.withAntiAffinity) {
    for (const term of placed.pod.antiAffinity) if (termMatches(term, pod)) forbid(existing, term.topologyKey, placed.node);
  }
  return { own, existing };
}

/** inForbiddenDomain tells whether `node` lies in one of `domains`. */
export function inForbiddenDomain(domains: ForbiddenDomains, node: NodeInfo): boolean {
  for (const [key, values] of domains) {
    const value = node.labels[key];
    if (value !== undefined && values.has(value)) return true;
  }
  return false;
}

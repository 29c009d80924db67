/**
 * PodInfo: what scheduling reads from a pod, parsed once (requests, owner, node selection,
 * tolerations, anti-affinity), so filters and scores over many nodes stay cheap.
 */
import { isRecord, readMetadata, type KubeObject } from '../api/objects.js';
import { fromLabelSelectorObject, type LabelRequirement, type LabelSelector } from '../api/selectors.js';
import { nonZeroRequests, podRequests, type Resources } from './resources.js';

/** Toleration is core/v1 Toleration. */
export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/** NodeSelectorTerm is one parsed term of required node affinity: label expressions and `metadata.name` field requirements. */
export interface NodeSelectorTerm {
  expressions: LabelSelector;
  fields: LabelSelector;
}

/** AffinityTerm is one parsed pod (anti-)affinity term: which pods, in which namespaces, over which topology. */
export interface AffinityTerm {
  selector: LabelSelector;
  /** The namespaces whose pods the term considers; `all` for an empty namespaceSelector. */
  namespaces: ReadonlySet<string> | 'all';
  topologyKey: string;
}

/** PodInfo is a pod as the scheduler sees it. The pod object is read-only (shared with the caller). */
export interface PodInfo {
  pod: Readonly<KubeObject>;
  namespace: string;
  name: string;
  uid: string;
  labels: Readonly<Record<string, string>>;
  requests: Resources;
  /** `requests` with scoring defaults for zero cpu/memory. */
  nonZeroRequests: Resources;
  /** The uid of the controller ownerReference, when there is one (spreading groups pods by it). */
  controllerUid?: string;
  nodeSelector: Readonly<Record<string, string>>;
  /** Required node affinity terms (ORed); undefined when the pod has none. */
  requiredNodeAffinity?: NodeSelectorTerm[];
  tolerations: Toleration[];
  /** Required pod anti-affinity terms. */
  antiAffinity: AffinityTerm[];
}

const NODE_SELECTOR_OPERATORS: Record<string, LabelRequirement['operator']> = {
  In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'notexists', Gt: 'gt', Lt: 'lt',
};

function requirements(list: unknown): LabelRequirement[] {
  if (!Array.isArray(list)) return [];
  return list.filter(isRecord).map((e) => {
    const operator = NODE_SELECTOR_OPERATORS[String(e.operator)];
    // An unknown operator must not match anything: `in` with no values never does.
    if (!operator) return { key: String(e.key ?? ''), operator: 'in', values: [] };
    return { key: String(e.key ?? ''), operator, values: Array.isArray(e.values) ? e.values.map(String) : [] };
  });
}

function parseRequiredNodeAffinity(spec: Record<string, unknown>): NodeSelectorTerm[] | undefined {
  const affinity = isRecord(spec.affinity) ? spec.affinity : {};
  const nodeAffinity = isRecord(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (!isRecord(required) || !Array.isArray(required.nodeSelectorTerms)) return undefined;
  return required.nodeSelectorTerms.filter(isRecord).map((t) => ({
    expressions: requirements(t.matchExpressions),
    fields: requirements(t.matchFields),
  }));
}

function parseAntiAffinity(spec: Record<string, unknown>, namespace: string): AffinityTerm[] {
  const affinity = isRecord(spec.affinity) ? spec.affinity : {};
  const anti = isRecord(affinity.podAntiAffinity) ? affinity.podAntiAffinity : {};
  const terms = anti.requiredDuringSchedulingIgnoredDuringExecution;
  if (!Array.isArray(terms)) return [];
  return terms.filter(isRecord).map((t) => {
    const listed = Array.isArray(t.namespaces) ? t.namespaces.map(String) : [];
    const everyNamespace = isRecord(t.namespaceSelector) && Object.keys(t.namespaceSelector).length === 0;
    return {
      // A term without a labelSelector matches no pods (Kubernetes: nil selector selects nothing).
      selector: fromLabelSelectorObject(t.labelSelector) ?? [{ key: '', operator: 'in', values: [] }],
      namespaces: everyNamespace ? 'all' : new Set(listed.length ? listed : [namespace]),
      topologyKey: String(t.topologyKey ?? ''),
    };
  });
}

function controllerUidOf(meta: Readonly<{ ownerReferences?: Record<string, unknown>[] }>): string | undefined {
  const owner = (meta.ownerReferences ?? []).find((o) => isRecord(o) && o.controller === true);
  return owner && typeof owner.uid === 'string' ? owner.uid : undefined;
}

/** podInfo parses `pod` for scheduling. */
export function podInfo(pod: Readonly<KubeObject>): PodInfo {
  const meta = readMetadata(pod);
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const namespace = meta.namespace ?? 'default';
  const requests = podRequests(pod);
  return {
    pod,
    namespace,
    name: String(meta.name ?? ''),
    uid: String(meta.uid ?? ''),
    labels: meta.labels ?? {},
    requests,
    nonZeroRequests: nonZeroRequests(requests),
    controllerUid: controllerUidOf(meta),
    nodeSelector: isRecord(spec.nodeSelector) ? (spec.nodeSelector as Record<string, string>) : {},
    requiredNodeAffinity: parseRequiredNodeAffinity(spec),
    tolerations: Array.isArray(spec.tolerations) ? (spec.tolerations.filter(isRecord) as Toleration[]) : [],
    antiAffinity: parseAntiAffinity(spec, namespace),
  };
}

/** isTerminated tells whether the pod finished (Succeeded or Failed): it no longer holds node resources. */
export function isTerminated(pod: Readonly<KubeObject>): boolean {
  const phase = isRecord(pod.status) ? pod.status.phase : undefined;
  return phase === 'Succeeded' || phase === 'Failed';
}

/**
 * The resource types the API server serves: one table that routing, discovery, OpenAPI, tables and
 * storage keys all read. Adding a kind here is the one place to start.
 */

/** SubresourceType describes `<resource>/<sub>` (status, scale, binding, eviction, log). */
export interface SubresourceType {
  name: string;
  /** The kind the subresource reads and writes (Scale, Binding, Eviction; the parent's kind for status). */
  group: string;
  version: string;
  kind: string;
  verbs: readonly string[];
}

/** ResourceType is one served resource, named as Kubernetes names it. */
export interface ResourceType {
  /** '' for the core (legacy) group served under /api/v1. */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** The plural, lower-case resource name used in URLs (`pods`). */
  plural: string;
  singular: string;
  shortNames: readonly string[];
  namespaced: boolean;
  verbs: readonly string[];
  categories: readonly string[];
  subresources: readonly SubresourceType[];
  /**
   * Set for kinds the store does not hold: the Metrics API's NodeMetrics and PodMetrics are
   * computed from the nodes' reports (shared/apiserver/metricsapi.ts). They have no storage key
   * and no watch, and controllers that walk every kind skip them.
   */
  notStored?: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
const STATUS_VERBS = ['get', 'patch', 'update'] as const;

function status(group: string, version: string, kind: string): SubresourceType {
  return { name: 'status', group, version, kind, verbs: STATUS_VERBS };
}

function resource(r: Omit<ResourceType, 'listKind' | 'singular' | 'verbs' | 'categories' | 'subresources'> &
  Partial<Pick<ResourceType, 'verbs' | 'categories' | 'subresources'>>): ResourceType {
  return {
    listKind: `${r.kind}List`,
    singular: r.kind.toLowerCase(),
    verbs: ALL_VERBS,
    categories: [],
    subresources: [],
    ...r,
  };
}

/** RESOURCES lists every served resource type. */
export const RESOURCES: readonly ResourceType[] = [
  resource({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', shortNames: ['ns'], namespaced: false,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [status('', 'v1', 'Namespace'), { name: 'finalize', group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] }] }),
  resource({ group: '', version: 'v1', kind: 'Pod', plural: 'pods', shortNames: ['po'], namespaced: true, categories: ['all'],
    subresources: [
      status('', 'v1', 'Pod'),
      { name: 'binding', group: '', version: 'v1', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
      { name: 'log', group: '', version: 'v1', kind: 'Pod', verbs: ['get'] },
      { name: 'exec', group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'attach', group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'portforward', group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    ] }),
  resource({ group: '', version: 'v1', kind: 'Node', plural: 'nodes', shortNames: ['no'], namespaced: false,
    subresources: [status('', 'v1', 'Node')] }),
  resource({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'], namespaced: true }),
  resource({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', shortNames: [], namespaced: true }),
  resource({ group: '', version: 'v1', kind: 'Service', plural: 'services', shortNames: ['svc'], namespaced: true, categories: ['all'],
    subresources: [status('', 'v1', 'Service')] }),
  resource({ group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'], namespaced: true }),
  resource({ group: '', version: 'v1', kind: 'Event', plural: 'events', shortNames: ['ev'], namespaced: true }),
  resource({ group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', shortNames: ['sa'], namespaced: true,
    subresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }] }),
  resource({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], namespaced: true,
    categories: ['all'],
    subresources: [status('apps', 'v1', 'Deployment'), { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: STATUS_VERBS }] }),
  resource({ group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', shortNames: ['rs'], namespaced: true,
    categories: ['all'],
    subresources: [status('apps', 'v1', 'ReplicaSet'), { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: STATUS_VERBS }] }),
  resource({ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', shortNames: [], namespaced: true }),
  resource({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', shortNames: [], namespaced: true }),
  resource({ group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', shortNames: ['pdb'],
    namespaced: true, subresources: [status('policy', 'v1', 'PodDisruptionBudget')] }),
  // RBAC (shared/rbac): roles and bindings, stored; the reviews below (and TokenReview) are create-only and never stored.
  resource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', shortNames: [], namespaced: false }),
  resource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', shortNames: [], namespaced: false }),
  resource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', shortNames: [], namespaced: true }),
  resource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', shortNames: [], namespaced: true }),
  resource({ group: 'authorization.k8s.io', version: 'v1', kind: 'LocalSubjectAccessReview', plural: 'localsubjectaccessreviews', shortNames: [], namespaced: true, verbs: ['create'] }),
  resource({ group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', shortNames: [], namespaced: false, verbs: ['create'] }),
  resource({ group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', shortNames: [], namespaced: false, verbs: ['create'] }),
  resource({ group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', shortNames: [], namespaced: false, verbs: ['create'] }),
  resource({ group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', shortNames: [], namespaced: false, verbs: ['create'] }),
  resource({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview', plural: 'tokenreviews', shortNames: [], namespaced: false, verbs: ['create'] }),
  // Coracle's own kinds (shared/upgrade/objects.ts): the cluster's versions and its node pools.
  resource({ group: 'coracle.io', version: 'v1', kind: 'Cluster', plural: 'clusters', shortNames: [], namespaced: false,
    categories: ['coracle'], subresources: [status('coracle.io', 'v1', 'Cluster')] }),
  resource({ group: 'coracle.io', version: 'v1', kind: 'NodePool', plural: 'nodepools', shortNames: ['np'], namespaced: false,
    categories: ['coracle'], subresources: [status('coracle.io', 'v1', 'NodePool')] }),
  // An upgrade of the cluster (shared/upgrade/run.ts), run by the upgrade orchestration (functions/upgrade.ts).
  resource({ group: 'coracle.io', version: 'v1', kind: 'UpgradeRun', plural: 'upgraderuns', shortNames: ['ur'], namespaced: false,
    categories: ['coracle'], subresources: [status('coracle.io', 'v1', 'UpgradeRun')] }),
  // Create-only and never stored, like TokenReview: the answer carries the plan (shared/upgrade/preview.ts).
  // The Metrics API (metrics-server's metrics.k8s.io/v1beta1), read-only, computed from the nodes' usage reports.
  resource({ group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', plural: 'nodes', shortNames: [], namespaced: false,
    verbs: ['get', 'list'], notStored: true }),
  resource({ group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', plural: 'pods', shortNames: [], namespaced: true,
    verbs: ['get', 'list'], notStored: true }),
  resource({ group: 'coracle.io', version: 'v1', kind: 'UpgradePreview', plural: 'upgradepreviews', shortNames: [], namespaced: false,
    verbs: ['create'] }),
];

/** groupVersion renders `v1` for the core group and `group/version` otherwise (an apiVersion). */
export function groupVersion(r: { group: string; version: string }): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** findResource looks a served resource up by group, version and plural; undefined if not served. */
export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** findResourceByKind looks a served resource up by apiVersion and kind. */
export function findResourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

/**
 * storageKey is where an object lives in the Store: `/registry/<group>/<plural>/<namespace>/<name>`
 * (core group: `/registry/core/...`; cluster-scoped: no namespace segment). With no name it is the
 * prefix of a namespace's (or the whole resource's) objects, ending in `/`.
 */
export function storageKey(r: ResourceType, namespace?: string, name?: string): string {
  let key = `/registry/${r.group === '' ? 'core' : r.group}/${r.plural}/`;
  if (r.namespaced && namespace) key += `${namespace}/`;
  if (name !== undefined) key += name;
  return key;
}

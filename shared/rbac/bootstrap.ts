/**
 * The default roles and bindings, reconciled at start as kube-apiserver's bootstrap policy does
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, reconciled by the rbac/bootstrap-roles
 * post-start hook): missing ones are created; existing ones annotated
 * `rbac.authorization.kubernetes.io/autoupdate: "true"` get the permissions, labels and subjects
 * they lack (nothing is removed); `autoupdate: "false"` leaves an object alone.
 */
import { isRecord, newUid, rfc3339Now, type KubeObject } from '../api/objects.js';
import { storageKey } from '../api/resources.js';
import { isStoreError, type Store } from '../store/store.js';
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, RBAC_GROUP } from './resolver.js';
import { policyRulesOf, uncoveredRules, type PolicyRule } from './rules.js';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = [...READ, ...WRITE];
const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate';
const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AGGREGATE_TO = (role: string) => `rbac.authorization.k8s.io/aggregate-to-${role}`;

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups, resources };
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

interface RoleSpec {
  name: string;
  rules?: PolicyRule[];
  labels?: Record<string, string>;
  aggregateFrom?: string;
}

/** DEFAULT_CLUSTER_ROLES are the bootstrap ClusterRoles (README, "Default roles", says what each allows). */
export const DEFAULT_CLUSTER_ROLES: readonly RoleSpec[] = [
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  { name: 'system:discovery', rules: [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])] },
  { name: 'system:public-info-viewer', rules: [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])] },
  { name: 'system:basic-user', rules: [
    rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
    rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
  ] },
  // For servers that delegate authentication and authorization to this one (upstream's; bound to no one by default).
  { name: 'system:auth-delegator', rules: [
    rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
  ] },
  { name: 'admin', aggregateFrom: 'admin' },
  { name: 'edit', aggregateFrom: 'edit', labels: { [AGGREGATE_TO('admin')]: 'true' } },
  { name: 'view', aggregateFrom: 'view', labels: { [AGGREGATE_TO('edit')]: 'true' } },
  { name: 'system:aggregate-to-admin', labels: { [AGGREGATE_TO('admin')]: 'true' }, rules: [
    rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
    rule(READ_WRITE, [RBAC_GROUP], ['rolebindings', 'roles']),
  ] },
  { name: 'system:aggregate-to-edit', labels: { [AGGREGATE_TO('edit')]: 'true' }, rules: [
    rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
    rule(['impersonate'], [''], ['serviceaccounts']),
    rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
    rule(['create'], [''], ['pods/eviction']),
    rule(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
    rule(['create'], [''], ['serviceaccounts/token']),
    rule(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
    rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
    rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
    rule(WRITE, ['policy'], ['poddisruptionbudgets']),
    rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
    rule(READ_WRITE, ['coordination.k8s.io'], ['leases']),
  ] },
  { name: 'system:aggregate-to-view', labels: { [AGGREGATE_TO('view')]: 'true' }, rules: [
    rule(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
    rule(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
    rule(READ, [''], ['namespaces']),
    rule(READ, ['discovery.k8s.io'], ['endpointslices']),
    rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
    rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
    rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
    rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
    rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
  ] },
  // metrics-server ships this one (system:aggregated-metrics-reader); Coracle serves metrics.k8s.io itself.
  { name: 'system:aggregated-metrics-reader', labels: { [AGGREGATE_TO('view')]: 'true', [AGGREGATE_TO('edit')]: 'true', [AGGREGATE_TO('admin')]: 'true' }, rules: [
    rule(READ, ['metrics.k8s.io'], ['nodes', 'pods']),
  ] },
  { name: 'system:node', rules: [
    rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
    rule(READ, [''], ['services']),
    rule(['create', 'get', 'list', 'watch'], [''], ['nodes']),
    rule(['patch', 'update'], [''], ['nodes/status']),
    rule(['patch', 'update'], [''], ['nodes']),
    rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    rule(READ, [''], ['pods']),
    rule(['create', 'delete'], [''], ['pods']),
    rule(['patch', 'update'], [''], ['pods/status']),
    rule(['create'], [''], ['pods/eviction']),
    rule(['get'], [''], ['configmaps', 'secrets']),
    rule(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
    rule(['get'], [''], ['endpoints']),
    rule(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
    rule(['create'], [''], ['serviceaccounts/token']),
  ] },
];

/** DEFAULT_CLUSTER_ROLE_BINDINGS bind the roles above as upstream does: `<binding>: <role> → groups`. */
export const DEFAULT_CLUSTER_ROLE_BINDINGS: readonly { name: string; role: string; groups: string[] }[] = [
  { name: 'cluster-admin', role: 'cluster-admin', groups: ['system:masters'] },
  { name: 'system:discovery', role: 'system:discovery', groups: ['system:authenticated'] },
  { name: 'system:basic-user', role: 'system:basic-user', groups: ['system:authenticated'] },
  { name: 'system:public-info-viewer', role: 'system:public-info-viewer', groups: ['system:authenticated', 'system:unauthenticated'] },
];

/** aggregatedRules is the union of the rules of the default roles labelled `aggregate-to-<name>` (one level, as the controller computes it from stored rules). */
function aggregatedRules(target: string, resolved: Map<string, PolicyRule[]>): PolicyRule[] {
  return DEFAULT_CLUSTER_ROLES.filter((r) => r.labels?.[AGGREGATE_TO(target)] === 'true').flatMap((r) => resolved.get(r.name) ?? []);
}

/** defaultClusterRoles renders the bootstrap ClusterRoles as objects, aggregated roles with their union of rules filled in. */
export function defaultClusterRoles(): KubeObject[] {
  const resolved = new Map<string, PolicyRule[]>();
  for (const r of DEFAULT_CLUSTER_ROLES) if (r.rules) resolved.set(r.name, r.rules);
  // view before edit before admin: each aggregates the previous.
  for (const name of ['view', 'edit', 'admin']) resolved.set(name, aggregatedRules(name, resolved));
  return DEFAULT_CLUSTER_ROLES.map((r) => ({
    apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole',
    metadata: { name: r.name, labels: { ...BOOTSTRAP_LABELS, ...r.labels }, annotations: { [AUTOUPDATE]: 'true' } },
    ...(r.aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO(r.aggregateFrom)]: 'true' } }] } } : {}),
    rules: (resolved.get(r.name) ?? []).map((rule) => ({ ...rule })),
  }));
}

/** defaultClusterRoleBindings renders the bootstrap ClusterRoleBindings as objects. */
export function defaultClusterRoleBindings(): KubeObject[] {
  return DEFAULT_CLUSTER_ROLE_BINDINGS.map((b) => ({
    apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRoleBinding',
    metadata: { name: b.name, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE]: 'true' } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: b.role },
    subjects: b.groups.map((name) => ({ apiGroup: RBAC_GROUP, kind: 'Group', name })),
  }));
}

/** mergeDefault returns the stored object with what the default adds (rules, labels, subjects), or undefined when nothing is missing. */
function mergeDefault(stored: KubeObject, wanted: KubeObject): KubeObject | undefined {
  const meta = isRecord(stored.metadata) ? stored.metadata : {};
  const annotations = isRecord(meta.annotations) ? meta.annotations : {};
  if (annotations[AUTOUPDATE] === 'false') return undefined;
  const next = structuredClone(stored);
  const nextMeta = next.metadata as Record<string, unknown>;
  let changed = false;
  const labels = isRecord(nextMeta.labels) ? nextMeta.labels : {};
  for (const [k, v] of Object.entries((wanted.metadata as { labels: Record<string, string> }).labels)) {
    if (labels[k] !== v) [labels[k], changed] = [v, true];
  }
  nextMeta.labels = labels;
  if (wanted.kind === 'ClusterRole') {
    const missing = uncoveredRules(policyRulesOf(stored), policyRulesOf(wanted));
    if (missing.length > 0) [next.rules, changed] = [[...(Array.isArray(stored.rules) ? stored.rules : []), ...missing], true];
  } else {
    const subjects = Array.isArray(next.subjects) ? next.subjects.filter(isRecord) : [];
    for (const s of wanted.subjects as Record<string, unknown>[]) {
      if (!subjects.some((t) => t.kind === s.kind && t.name === s.name)) [subjects[subjects.length], changed] = [s, true];
    }
    next.subjects = subjects;
  }
  return changed ? next : undefined;
}

/**
 * reconcileBootstrapPolicy creates the default ClusterRoles and ClusterRoleBindings that are
 * missing and adds what a default lacks to one that exists (idempotent; safe to race: a lost race
 * leaves the winner's write, which holds the same defaults).
 */
export async function reconcileBootstrapPolicy(store: Store, now = new Date()): Promise<void> {
  const objects = [...defaultClusterRoles().map((o) => [CLUSTER_ROLES, o] as const), ...defaultClusterRoleBindings().map((o) => [CLUSTER_ROLE_BINDINGS, o] as const)];
  for (const [resource, wanted] of objects) {
    const key = storageKey(resource, undefined, String((wanted.metadata as { name: string }).name));
    const kv = await store.get(key);
    try {
      if (!kv) {
        (wanted.metadata as Record<string, unknown>).uid = newUid();
        (wanted.metadata as Record<string, unknown>).creationTimestamp = rfc3339Now(now);
        await store.create(key, wanted);
        continue;
      }
      const merged = mergeDefault(kv.value, wanted);
      if (merged) await store.update(key, merged, kv.modRevision);
    } catch (err) {
      if (!isStoreError(err, 'AlreadyExists') && !isStoreError(err, 'Conflict')) throw err;
    }
  }
}

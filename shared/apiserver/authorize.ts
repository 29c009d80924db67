/**
 * Node authorization: what a node agent's identity (user `system:node:<name>` in group
 * `system:nodes`) may do, after Kubernetes' Node authorizer (plugin/pkg/auth/authorizer/node,
 * with AuthorizeNodeWithSelectors). What needs the object written (which Node or Lease a create
 * names, which labels a node sets) is NodeRestriction admission, in noderestriction.ts.
 *
 * A node may write only its own Node (and its status), its own Lease in `kube-node-lease`, the
 * status of pods bound to it and the final delete of those pods, and events. It may read nodes,
 * services, endpoints, endpointslices and namespaces; pods bound to it (a named get is checked against
 * `spec.nodeName`, a list or watch must carry the field selector `spec.nodeName=<node>`); and only
 * those Secrets, ConfigMaps, PersistentVolumeClaims and ServiceAccounts that a pod bound to it
 * references, one at a time (a get, or a list/watch selecting `metadata.name`, in a namespace);
 * and tokens (TokenRequest) of the ServiceAccounts pods bound to it run as.
 * Everything else is a 403 Forbidden Status worded as Kubernetes' denial. Users that are not nodes
 * are left alone (this hook does no RBAC).
 */
import { storageKey, findResourceByKind } from '../api/resources.js';
import type { ApiError } from '../api/status.js';
import { accessForbidden, attributesOf } from '../rbac/attributes.js';
import { isRecord, type KubeObject } from '../api/objects.js';
import type { Store } from '../store/store.js';
import type { AuthorizationAttributes, Authorizer, RequestInfo, UserInfo, Verb } from './context.js';
import { decode } from './storage.js';
import { STREAM_SUBRESOURCES } from '../streams/gateway.js';

/** NODES_GROUP is the group every node identity belongs to. */
export const NODES_GROUP = 'system:nodes';
/** NODE_USER_PREFIX prefixes a node identity's username: `system:node:<nodeName>`. */
export const NODE_USER_PREFIX = 'system:node:';
/** NODE_LEASE_NAMESPACE holds one Lease per node, named after it. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const READ: ReadonlySet<Verb> = new Set(['get', 'list', 'watch']);
const WRITE_OWN: ReadonlySet<Verb> = new Set(['get', 'list', 'watch', 'create', 'update', 'patch']);
/** Kinds every node reads in full (service links, DNS, its namespace checks). */
const READ_ONLY_PLURALS: ReadonlySet<string> = new Set(['services', 'endpoints', 'namespaces']);
/** Kinds a node reads only when a pod bound to it references the object (upstream's graph vertices). */
const REFERENCED_PLURALS: ReadonlySet<string> = new Set(['configmaps', 'secrets', 'persistentvolumeclaims', 'serviceaccounts']);
const PODS = findResourceByKind('v1', 'Pod')!;

/** READ_ONLY_DISCOVERY: a node's proxy and DNS read EndpointSlices (discovery.k8s.io), as kube-proxy's system:node-proxier role allows. */
const READ_ONLY_DISCOVERY = 'endpointslices';

/** nodeNameOf returns the node a user authenticates as, or undefined when the user is not a node. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.username.startsWith(NODE_USER_PREFIX)) return undefined;
  const name = user.username.slice(NODE_USER_PREFIX.length);
  return name === '' ? undefined : name;
}

/** nodeUserName is the username of node `nodeName`'s identity. */
export function nodeUserName(nodeName: string): string {
  return `${NODE_USER_PREFIX}${nodeName}`;
}

/**
 * nodeForbidden renders Kubernetes' denial: `nodes "x" is forbidden: User "system:node:y" cannot
 * patch resource "nodes" in API group "" at the cluster scope: <reason>`.
 */
export function nodeForbidden(user: UserInfo, info: RequestInfo, reason: string): ApiError {
  return accessForbidden(user, attributesOf(info), reason);
}

type Decision = string | undefined; // a denial reason, or undefined to allow

function decideNode(node: string, info: RequestInfo): Decision {
  if (READ.has(info.verb)) return undefined;
  // A create names no object in the path; the hook cannot see the body (see createNodeAuthorizer).
  if (info.verb === 'create' && info.name === undefined) return undefined;
  if (info.name !== node) return `node '${node}' cannot modify node '${info.name ?? ''}'`;
  return WRITE_OWN.has(info.verb) ? undefined : `node '${node}' cannot ${info.verb} its own Node object`;
}

function decideLease(node: string, info: RequestInfo): Decision {
  if (info.namespace !== NODE_LEASE_NAMESPACE) return `can only access node lease objects in the "${NODE_LEASE_NAMESPACE}" namespace`;
  if (info.verb === 'create' && info.name === undefined) return undefined; // the name is checked by the body's name == node (see below)
  if (info.name !== node && !(READ.has(info.verb) && info.name === undefined)) return `can only access node lease with the same name as the requesting node`;
  return info.verb === 'deletecollection' ? 'can only access node lease with the same name as the requesting node' : undefined;
}

/** boundNode reads the pod the request names and returns its spec.nodeName (undefined: absent or unbound). */
async function boundNode(store: Store, info: RequestInfo): Promise<{ exists: boolean; nodeName?: string }> {
  const kv = await store.get(storageKey(info.resource, info.namespace, info.name));
  if (!kv) return { exists: false };
  const spec = isRecord(kv.value.spec) ? kv.value.spec : {};
  return { exists: true, nodeName: typeof spec.nodeName === 'string' ? spec.nodeName : undefined };
}

/** selects tells whether a field selector has the clause `field=value` (or `==`), as a requirement every match meets. */
export function selects(fieldSelector: string | null, field: string, value: string): boolean {
  if (!fieldSelector) return false;
  return fieldSelector.split(',').some((clause) => {
    const m = /^\s*([^=!\s]+)\s*==?\s*(.*?)\s*$/.exec(clause);
    return m !== null && m[1] === field && m[2] === value;
  });
}

async function decidePod(store: Store, node: string, info: RequestInfo, query: URLSearchParams): Promise<Decision> {
  // Streams into containers (exec, attach, portforward) are never a node's: upstream's node
  // authorizer has no opinion and RBAC's system:node role grants none, so the denial has no reason.
  if (info.subresource !== undefined && STREAM_SUBRESOURCES.has(info.subresource)) return '';
  if (info.verb === 'list' || info.verb === 'watch') {
    if (info.name === undefined && selects(query.get('fieldSelector'), 'spec.nodeName', node)) return undefined;
    return 'can only list/watch pods with spec.nodeName field selector';
  }
  const named = info.name !== undefined && (info.verb === 'get' || info.verb === 'delete' || ((info.verb === 'update' || info.verb === 'patch') && info.subresource === 'status'));
  if (!named) return `node '${node}' can only read pods, update the status of and delete pods bound to it`;
  const bound = await boundNode(store, info);
  // An absent pod is a 404 from the handler: telling the node so reveals nothing it may not know.
  if (!bound.exists || bound.nodeName === node) return undefined;
  return `no relationship found between node '${node}' and this object`;
}

/**
 * referencesOf lists what a pod references, as `<plural>/<name>` (upstream's graph_populator:
 * volumes, projected sources, env and envFrom of every container, image pull secrets, its service
 * account, CSI and other volume secret refs).
 */
export function referencesOf(pod: Readonly<KubeObject>): Set<string> {
  const refs = new Set<string>();
  const add = (plural: string, name: unknown) => {
    if (typeof name === 'string' && name !== '') refs.add(`${plural}/${name}`);
  };
  const spec = isRecord(pod.spec) ? pod.spec : {};
  add('serviceaccounts', spec.serviceAccountName ?? spec.serviceAccount);
  for (const s of Array.isArray(spec.imagePullSecrets) ? spec.imagePullSecrets : []) if (isRecord(s)) add('secrets', s.name);
  for (const v of Array.isArray(spec.volumes) ? spec.volumes.filter(isRecord) : []) addVolumeReferences(v, add);
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of Array.isArray(spec[list]) ? (spec[list] as unknown[]).filter(isRecord) : []) {
      for (const e of Array.isArray(c.env) ? c.env.filter(isRecord) : []) {
        const from = isRecord(e.valueFrom) ? e.valueFrom : {};
        if (isRecord(from.secretKeyRef)) add('secrets', from.secretKeyRef.name);
        if (isRecord(from.configMapKeyRef)) add('configmaps', from.configMapKeyRef.name);
      }
      for (const e of Array.isArray(c.envFrom) ? c.envFrom.filter(isRecord) : []) {
        if (isRecord(e.secretRef)) add('secrets', e.secretRef.name);
        if (isRecord(e.configMapRef)) add('configmaps', e.configMapRef.name);
      }
    }
  }
  return refs;
}

function addVolumeReferences(v: Record<string, unknown>, add: (plural: string, name: unknown) => void): void {
  if (isRecord(v.secret)) add('secrets', v.secret.secretName);
  if (isRecord(v.configMap)) add('configmaps', v.configMap.name);
  if (isRecord(v.persistentVolumeClaim)) add('persistentvolumeclaims', v.persistentVolumeClaim.claimName);
  if (isRecord(v.azureFile)) add('secrets', v.azureFile.secretName);
  for (const driver of ['csi', 'cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos']) {
    const src = v[driver];
    if (!isRecord(src)) continue;
    for (const key of ['secretRef', 'nodePublishSecretRef']) if (isRecord(src[key])) add('secrets', src[key].name);
  }
  const projected = isRecord(v.projected) && Array.isArray(v.projected.sources) ? v.projected.sources.filter(isRecord) : [];
  for (const source of projected) {
    if (isRecord(source.secret)) add('secrets', source.secret.name);
    if (isRecord(source.configMap)) add('configmaps', source.configMap.name);
  }
}

/**
 * isReferencedByBoundPod tells whether a pod bound to `node` in `namespace` references
 * `<plural>/<name>`. It reads the namespace's pods (upstream keeps a graph for this; a node asks
 * only when it starts a pod, so a scan of one namespace is the price here).
 */
async function isReferencedByBoundPod(store: Store, node: string, namespace: string, plural: string, name: string): Promise<boolean> {
  const wanted = `${plural}/${name}`;
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list(storageKey(PODS, namespace), { limit: 500, startAfter, countRemaining: false });
    for (const kv of page.items) {
      const pod = decode(kv);
      if (isRecord(pod.spec) && pod.spec.nodeName === node && referencesOf(pod).has(wanted)) return true;
    }
    if (!page.more || page.items.length === 0) return false;
    startAfter = page.items[page.items.length - 1].key;
  }
}

/**
 * decideTokenRequest: a node may create a token (TokenRequest) only for a ServiceAccount a pod
 * bound to it runs as (upstream's authorizeCreateToken); that the token is bound to such a pod is
 * NodeRestriction's check, in the TokenRequest handler (shared/rbac/tokenrequest.ts).
 */
async function decideTokenRequest(store: Store, node: string, info: RequestInfo): Promise<Decision> {
  if (info.verb !== 'create' || info.name === undefined || info.namespace === undefined) return 'can only create tokens for individual service accounts';
  if (await isReferencedByBoundPod(store, node, info.namespace, 'serviceaccounts', info.name)) return undefined;
  return `no relationship found between node '${node}' and this object`;
}

/** decideReferenced: one named object at a time, and only one a pod bound to the node references. */
async function decideReferenced(store: Store, node: string, info: RequestInfo, query: URLSearchParams): Promise<Decision> {
  if (!READ.has(info.verb)) return 'can only read resources of this type';
  if (info.subresource) return 'cannot read subresource';
  if (info.namespace === undefined) return 'can only read namespaced object of this type';
  // A list or watch names its object by field selector, as upstream's RequestInfo reads it.
  const name = info.verb === 'get' ? info.name : info.name ?? nameSelected(query.get('fieldSelector'));
  if (name === undefined) return 'can only get individual resources of this type';
  if (await isReferencedByBoundPod(store, node, info.namespace, info.resource.plural, name)) return undefined;
  return `no relationship found between node '${node}' and this object`;
}

function nameSelected(fieldSelector: string | null): string | undefined {
  const m = /^\s*metadata\.name\s*==?\s*([^,\s]+)\s*$/.exec(fieldSelector ?? '');
  return m?.[1];
}

/** decide returns why a node's request is refused, or undefined when it is allowed. */
async function decide(store: Store, node: string, info: RequestInfo, query: URLSearchParams): Promise<Decision> {
  const { group, plural } = info.resource;
  if (group === '' && plural === 'nodes') return decideNode(node, info);
  if (group === 'coordination.k8s.io' && plural === 'leases') return decideLease(node, info);
  if (group === '' && plural === 'pods') return decidePod(store, node, info, query);
  if (group === '' && plural === 'serviceaccounts' && info.subresource === 'token') return decideTokenRequest(store, node, info);
  if (group === '' && REFERENCED_PLURALS.has(plural)) return decideReferenced(store, node, info, query);
  if ((group === '' || group === 'events.k8s.io') && plural === 'events') {
    return info.verb === 'create' || info.verb === 'patch' || info.verb === 'update' ? undefined : 'nodes may only write events';
  }
  if (group === '' && READ_ONLY_PLURALS.has(plural) && READ.has(info.verb)) return undefined;
  if (group === 'discovery.k8s.io' && plural === READ_ONLY_DISCOVERY && READ.has(info.verb)) return undefined;
  return `node '${node}' has no access to this resource`;
}

/**
 * nodeRefusal decides a node identity's request: `undefined` when the user is not a node (RBAC
 * decides alone), else `{ reason }` with why it is refused (reason undefined: allowed).
 */
export async function nodeRefusal(store: Store, user: UserInfo, info: RequestInfo, query: URLSearchParams): Promise<{ reason?: string } | undefined> {
  const node = nodeNameOf(user);
  // A username that claims a node without the group (or the reverse) gets no node powers.
  if (node === undefined) return undefined;
  return { reason: await decide(store, node, info, query) };
}

/**
 * createNodeAuthorizer returns the API server's `authorize` hook for node identities alone. It reads
 * the store to check which node a named pod is bound to and which objects bound pods reference.
 * Requests by users that are not nodes pass through (undefined). Creates of a Node or a Lease are
 * allowed here by kind (and namespace): which name the body holds is NodeRestriction's check
 * (createNodeRestriction, noderestriction.ts), as upstream splits it. The cluster's chain (node
 * authorizer, then RBAC) is createAccessControl (shared/rbac/authorizer.ts).
 */
export function createNodeAuthorizer(store: Store): Authorizer {
  return async (user, info, attributes?: AuthorizationAttributes) => {
    const refusal = await nodeRefusal(store, user, info, attributes?.query ?? new URLSearchParams());
    return refusal?.reason === undefined ? undefined : nodeForbidden(user, info, refusal.reason);
  };
}

/**
 * Node authorization: what a node agent's identity (user `system:node:<name>` in group
 * `system:nodes`) may do, after Kubernetes' Node authorizer and NodeRestriction admission
 * (plugin/pkg/auth/authorizer/node, plugin/pkg/admission/noderestriction), folded into one hook.
 *
 * A node may write only its own Node (and its status), its own Lease in `kube-node-lease`, the
 * status of pods bound to it and the final delete of those pods, and events. It may read nodes,
 * pods bound to it (a named get is checked against `spec.nodeName`; list/watch cannot be checked
 * here because the hook sees no query, so they are allowed as the kubelet's field-selected
 * watches need), configmaps, secrets, services, endpoints, endpointslices and namespaces. Everything else is a
 * 403 Forbidden Status worded as Kubernetes' RBAC denial. Users that are not nodes are left alone
 * (this hook does no RBAC).
 */
import { storageKey } from '../api/resources.js';
import { ApiError, qualifiedResource } from '../api/status.js';
import { isRecord } from '../api/objects.js';
import type { Store } from '../store/store.js';
import type { Authorizer, RequestInfo, UserInfo, Verb } from './context.js';

/** NODES_GROUP is the group every node identity belongs to. */
export const NODES_GROUP = 'system:nodes';
/** NODE_USER_PREFIX prefixes a node identity's username: `system:node:<nodeName>`. */
export const NODE_USER_PREFIX = 'system:node:';
/** NODE_LEASE_NAMESPACE holds one Lease per node, named after it. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const READ: ReadonlySet<Verb> = new Set(['get', 'list', 'watch']);
const WRITE_OWN: ReadonlySet<Verb> = new Set(['get', 'list', 'watch', 'create', 'update', 'patch']);
/** Kinds a node only reads (the kubelet resolves env, volumes and service links from them). */
const READ_ONLY_PLURALS: ReadonlySet<string> = new Set(['configmaps', 'secrets', 'services', 'endpoints', 'namespaces', 'persistentvolumeclaims']);

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
  const { group, plural } = info.resource;
  const resource = info.subresource ? `${plural}/${info.subresource}` : plural;
  const what = info.name !== undefined ? `${qualifiedResource(group, plural)} "${info.name}"` : qualifiedResource(group, plural);
  const scope = info.resource.namespaced && info.namespace !== undefined ? `in the namespace "${info.namespace}"` : 'at the cluster scope';
  const message = `${what} is forbidden: User "${user.username}" cannot ${info.verb} resource "${resource}" in API group "${group}" ${scope}: ${reason}`;
  return new ApiError(403, 'Forbidden', message, { name: info.name, group: group || undefined, kind: plural });
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

async function decidePod(store: Store, node: string, info: RequestInfo): Promise<Decision> {
  if (info.verb === 'list' || info.verb === 'watch') return undefined;
  const named = info.name !== undefined && (info.verb === 'get' || info.verb === 'delete' || ((info.verb === 'update' || info.verb === 'patch') && info.subresource === 'status'));
  if (!named) return `node '${node}' can only read pods, update the status of and delete pods bound to it`;
  const bound = await boundNode(store, info);
  // An absent pod is a 404 from the handler: telling the node so reveals nothing it may not know.
  if (!bound.exists || bound.nodeName === node) return undefined;
  return `no relationship found between node '${node}' and this object`;
}

/** decide returns why a node's request is refused, or undefined when it is allowed. */
async function decide(store: Store, node: string, info: RequestInfo): Promise<Decision> {
  const { group, plural } = info.resource;
  if (group === '' && plural === 'nodes') return decideNode(node, info);
  if (group === 'coordination.k8s.io' && plural === 'leases') return decideLease(node, info);
  if (group === '' && plural === 'pods') return decidePod(store, node, info);
  if ((group === '' || group === 'events.k8s.io') && plural === 'events') {
    return info.verb === 'create' || info.verb === 'patch' || info.verb === 'update' ? undefined : 'nodes may only write events';
  }
  if (group === '' && READ_ONLY_PLURALS.has(plural) && READ.has(info.verb)) return undefined;
  if (group === 'discovery.k8s.io' && plural === READ_ONLY_DISCOVERY && READ.has(info.verb)) return undefined;
  return `node '${node}' has no access to this resource`;
}

/**
 * createNodeAuthorizer returns the API server's `authorize` hook for node identities. It reads
 * the store only to check which node a named pod is bound to. Requests by users that are not
 * nodes pass through (undefined). Creates of a Node or a Lease are allowed by kind (and namespace):
 * the hook cannot see the body's name, so a node creating another node's object is not refused
 * here — but every later write to it is (a real cluster adds NodeRestriction admission for that).
 */
export function createNodeAuthorizer(store: Store): Authorizer {
  return async (user, info) => {
    const node = nodeNameOf(user);
    if (node === undefined) {
      // A username that claims a node without the group (or the reverse) gets no node powers,
      // and is otherwise an ordinary user: RBAC (not built) would decide.
      return undefined;
    }
    const reason = await decide(store, node, info);
    return reason === undefined ? undefined : nodeForbidden(user, info, reason);
  };
}

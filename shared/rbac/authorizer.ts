/**
 * The cluster's authorization chain, as kube-apiserver's `--authorization-mode=Node,RBAC`:
 * `system:masters` is allowed everything (upstream's privileged-group authorizer), then the node
 * authorizer decides for node identities, then RBAC (resolver.ts). A request nothing allows is a
 * 403 Forbidden Status worded as upstream's (attributes.ts). One object serves the API server's
 * `authorize` hook, the access reviews (reviews.ts) and the escalation checks (escalation.ts).
 */
import { RESOURCES } from '../api/resources.js';
import type { ApiError } from '../api/status.js';
import type { Store } from '../store/store.js';
import type { AccessDecision, AccessReviewer, AuthorizationAttributes, RequestInfo, UserInfo, Verb } from '../apiserver/context.js';
import { nodeForbidden, nodeNameOf, nodeRefusal } from '../apiserver/authorize.js';
import { accessForbidden, attributesOf } from './attributes.js';
import { RuleResolver } from './resolver.js';
import type { AccessAttributes, PolicyRule } from './rules.js';

/** MASTERS_GROUP may do everything, whatever RBAC holds. */
export const MASTERS_GROUP = 'system:masters';

const VERBS: ReadonlySet<string> = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']);

/** AccessControl is the chain: `authorize` for routed requests (the API server's hook), and what the reviews ask. */
export interface AccessControl extends AccessReviewer {
  authorize(user: UserInfo, info: RequestInfo, attributes?: AuthorizationAttributes): Promise<ApiError | undefined>;
  /** authorizeAttributes refuses (403) or allows any request, non-resource ones included. */
  authorizeAttributes(user: UserInfo, attributes: AccessAttributes): Promise<ApiError | undefined>;
}

/** routedRequestOf finds the served resource a review's attributes name, for the node authorizer (undefined: not one it can judge). */
function routedRequestOf(a: AccessAttributes): RequestInfo | undefined {
  if (!a.resourceRequest || !VERBS.has(a.verb)) return undefined;
  const resource = RESOURCES.find((r) => r.group === a.apiGroup && r.plural === a.resource && !r.notStored);
  if (!resource) return undefined;
  return { verb: a.verb as Verb, resource, namespace: a.namespace, name: a.name, subresource: a.subresource };
}

/** createAccessControl builds the chain over the store's RBAC objects (read per decision: a new binding counts at once). */
export function createAccessControl(store: Store): AccessControl {
  const rbacReason = async (user: UserInfo, a: AccessAttributes): Promise<string | undefined> => {
    const source = await new RuleResolver(store).allowedBy(user, a);
    return source === undefined ? undefined : `RBAC: allowed by ${source}`;
  };
  const decide = async (user: UserInfo, a: AccessAttributes, info?: RequestInfo, query = new URLSearchParams()): Promise<AccessDecision & { nodeReason?: string }> => {
    if (user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: '' };
    const routed = info ?? routedRequestOf(a);
    const node = routed && nodeNameOf(user) !== undefined ? await nodeRefusal(store, user, routed, query) : undefined;
    if (node && node.reason === undefined) return { allowed: true, reason: '' };
    const allowed = await rbacReason(user, a);
    if (allowed !== undefined) return { allowed: true, reason: allowed };
    return { allowed: false, reason: node?.reason ?? '', nodeReason: node?.reason };
  };
  return {
    decide: (user, a) => decide(user, a),
    async authorize(user, info, attributes) {
      const a = attributesOf(info);
      const d = await decide(user, a, info, attributes?.query);
      if (d.allowed) return undefined;
      return d.nodeReason !== undefined ? nodeForbidden(user, info, d.nodeReason) : accessForbidden(user, a);
    },
    async authorizeAttributes(user, a) {
      const d = await decide(user, a);
      return d.allowed ? undefined : accessForbidden(user, a, d.reason);
    },
    async rulesFor(user, namespace): Promise<{ rules: PolicyRule[]; incomplete: boolean }> {
      const rules = await new RuleResolver(store).rulesFor(user, namespace);
      // The node authorizer's powers depend on the objects asked for: it cannot list them (upstream: incomplete).
      return { rules, incomplete: nodeNameOf(user) !== undefined && !user.groups.includes(MASTERS_GROUP) };
    },
  };
}

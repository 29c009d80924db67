/**
 * Privilege-escalation prevention (upstream's pkg/registry/rbac/{role,clusterrole,rolebinding,
 * clusterrolebinding}/policybased): writing a Role or ClusterRole needs every permission it grants
 * unless the writer may `escalate` it; writing a binding needs every permission of the role it
 * references unless the writer may `bind` that role. `system:masters` may do both. Written as an
 * Admission so creates, updates, patches and applies all pass through it.
 */
import { isRecord, readMetadata } from '../api/objects.js';
import { forbidden, notFound } from '../api/status.js';
import type { Admission, HandlerContext, UserInfo } from '../apiserver/context.js';
import { MASTERS_GROUP } from './authorizer.js';
import { CLUSTER_ROLES, RBAC_GROUP, ROLES, RuleResolver, type RoleRef } from './resolver.js';
import { compactRule, policyRulesOf, uncoveredRules, type PolicyRule } from './rules.js';

/** FULL_AUTHORITY is what writing an aggregated ClusterRole needs (its rules are whatever it selects, now or later). */
const FULL_AUTHORITY: PolicyRule[] = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];

function notHeld(ctx: HandlerContext, name: string, user: UserInfo, missing: PolicyRule[]): ReturnType<typeof forbidden> {
  // Go's %q of a []string: ["a" "b"].
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
  const why = `user ${JSON.stringify(user.username)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${missing.map(compactRule).join('\n')}`;
  return forbidden(ctx.info.resource.group, ctx.info.resource.plural, name, why);
}

async function mayVerb(ctx: HandlerContext, verb: string, resource: string, name: string, namespace: string | undefined): Promise<boolean> {
  const d = await ctx.access!.decide(ctx.user, { resourceRequest: true, verb, apiGroup: RBAC_GROUP, resource, name, namespace });
  return d.allowed;
}

/** admitRbacEscalation refuses a Role, ClusterRole or binding that grants more than its writer holds (403, upstream's message). */
export const admitRbacEscalation: Admission = async (ctx, obj) => {
  const { resource } = ctx.info;
  if (resource.group !== RBAC_GROUP || !ctx.access || ctx.user.groups.includes(MASTERS_GROUP)) return undefined;
  const namespace = resource.namespaced ? ctx.info.namespace : undefined;
  const name = String(readMetadata(obj).name ?? '');
  let granted: PolicyRule[];
  if (resource.kind === 'Role' || resource.kind === 'ClusterRole') {
    if (await mayVerb(ctx, 'escalate', resource.plural, name, namespace)) return undefined;
    granted = isRecord(obj.aggregationRule) ? FULL_AUTHORITY : policyRulesOf(obj);
  } else {
    const r = isRecord(obj.roleRef) ? obj.roleRef : {};
    const ref: RoleRef = { kind: String(r.kind ?? ''), name: String(r.name ?? '') };
    const plural = ref.kind === 'Role' ? ROLES.plural : CLUSTER_ROLES.plural;
    if (await mayVerb(ctx, 'bind', plural, ref.name, namespace)) return undefined;
    const rules = await new RuleResolver(ctx.store).roleRules(ref, namespace);
    if (!rules) return notFound(RBAC_GROUP, plural, ref.name);
    granted = rules;
  }
  const missing = uncoveredRules((await ctx.access.rulesFor(ctx.user, namespace)).rules, granted);
  return missing.length === 0 ? undefined : notHeld(ctx, name, ctx.user, missing);
};

/**
 * The RBAC rule resolver: which rules apply to a user in a namespace, read from the store's
 * ClusterRoleBindings, RoleBindings, ClusterRoles and Roles (upstream's DefaultRuleResolver,
 * k8s.io/component-helpers/auth/rbac/validation). A ClusterRole with an `aggregationRule` is
 * resolved at read time to the rules of every ClusterRole its selectors match, so a role labelled
 * `rbac.authorization.k8s.io/aggregate-to-view: "true"` adds to `view` at once (upstream's
 * clusterrole-aggregation controller writes the same union into the object).
 */
import { findResourceByKind, storageKey } from '../api/resources.js';
import { isRecord, type KubeObject } from '../api/objects.js';
import { fromLabelSelectorObject, matchesLabels } from '../api/selectors.js';
import type { Store } from '../store/store.js';
import { decode, listStored } from '../apiserver/storage.js';
import { policyRulesOf, ruleAllows, type AccessAttributes, type PolicyRule } from './rules.js';

/** RBAC_GROUP is the API group of Roles and bindings. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_VERSION = `${RBAC_GROUP}/v1`;
/** ROLES is the served Role resource. */
export const ROLES = findResourceByKind(RBAC_VERSION, 'Role')!;
/** CLUSTER_ROLES is the served ClusterRole resource. */
export const CLUSTER_ROLES = findResourceByKind(RBAC_VERSION, 'ClusterRole')!;
/** ROLE_BINDINGS is the served RoleBinding resource. */
export const ROLE_BINDINGS = findResourceByKind(RBAC_VERSION, 'RoleBinding')!;
/** CLUSTER_ROLE_BINDINGS is the served ClusterRoleBinding resource. */
export const CLUSTER_ROLE_BINDINGS = findResourceByKind(RBAC_VERSION, 'ClusterRoleBinding')!;

/** SERVICE_ACCOUNT_USER_PREFIX prefixes a ServiceAccount's username: `system:serviceaccount:<ns>:<name>`. */
export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';

/** Subject is who a binding names (rbac.authorization.k8s.io/v1 Subject). */
export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

/** RoleRef is the role a binding grants. */
export interface RoleRef {
  kind: string;
  name: string;
  apiGroup?: string;
}

/** Principal is who asks: a username and groups. */
export interface Principal {
  username: string;
  groups: readonly string[];
}

/** serviceAccountUsername is the username of ServiceAccount `name` in `namespace`. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;
}

/** appliesTo tells whether a binding's subject names the user (upstream's appliesToUser); `bindingNamespace` defaults a ServiceAccount subject's namespace. */
export function appliesTo(user: Principal, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount':
      return user.username === serviceAccountUsername(subject.namespace || bindingNamespace, subject.name);
    default:
      return false;
  }
}

/** GrantedRules are the rules a binding gives, and the words upstream names it by in an allow reason. */
export interface GrantedRules {
  /** `ClusterRoleBinding "x" of ClusterRole "y" to User "z"` (upstream's authorizingVisitor source). */
  source: string;
  rules: readonly PolicyRule[];
}

function subjectsOf(binding: KubeObject): Subject[] {
  const list = Array.isArray(binding.subjects) ? binding.subjects : [];
  return list.filter(isRecord).map((s) => ({ kind: String(s.kind ?? ''), name: String(s.name ?? ''), namespace: typeof s.namespace === 'string' ? s.namespace : undefined }));
}

function roleRefOf(binding: KubeObject): RoleRef {
  const ref = isRecord(binding.roleRef) ? binding.roleRef : {};
  return { kind: String(ref.kind ?? ''), name: String(ref.name ?? ''), apiGroup: typeof ref.apiGroup === 'string' ? ref.apiGroup : undefined };
}

/**
 * RuleResolver reads RBAC objects for one decision (one request or review): it caches what it has
 * read, so build a new one per decision (a later decision must see later writes).
 */
export class RuleResolver {
  private clusterRoles?: Promise<KubeObject[]>;

  constructor(private readonly store: Store) {}

  /** roleRules returns the rules of the role a binding in `namespace` refers to (undefined: no such role). */
  async roleRules(ref: RoleRef, namespace: string | undefined): Promise<PolicyRule[] | undefined> {
    if (ref.kind === 'ClusterRole') {
      const kv = await this.store.get(storageKey(CLUSTER_ROLES, undefined, ref.name));
      return kv ? this.clusterRoleRules(decode(kv)) : undefined;
    }
    if (ref.kind === 'Role' && namespace) {
      const kv = await this.store.get(storageKey(ROLES, namespace, ref.name));
      return kv ? policyRulesOf(decode(kv)) : undefined;
    }
    return undefined;
  }

  /** clusterRoleRules resolves a ClusterRole's rules, aggregation included. */
  async clusterRoleRules(role: KubeObject): Promise<PolicyRule[]> {
    const aggregation = isRecord(role.aggregationRule) ? role.aggregationRule : undefined;
    if (!aggregation) return policyRulesOf(role);
    const selectors = (Array.isArray(aggregation.clusterRoleSelectors) ? aggregation.clusterRoleSelectors : [])
      .map((s) => fromLabelSelectorObject(s)).filter((s) => s !== undefined);
    const name = isRecord(role.metadata) ? role.metadata.name : undefined;
    this.clusterRoles ??= listStored(this.store, storageKey(CLUSTER_ROLES));
    const rules: PolicyRule[] = [];
    for (const other of await this.clusterRoles) {
      const meta = isRecord(other.metadata) ? other.metadata : {};
      if (meta.name === name) continue;
      const labels = isRecord(meta.labels) ? (meta.labels as Record<string, string>) : {};
      // Aggregation is one level deep, as the controller's union of the members' stored rules.
      if (selectors.some((s) => matchesLabels(s, labels))) rules.push(...policyRulesOf(other));
    }
    return rules;
  }

  /**
   * grants visits every binding that applies to `user` (ClusterRoleBindings, then the RoleBindings
   * of `namespace`) with the rules it grants; `visit` returns true to stop. Bindings to missing
   * roles are skipped (upstream reports them as errors in the reason; here they grant nothing).
   */
  async grants(user: Principal, namespace: string | undefined, visit: (g: GrantedRules) => boolean): Promise<void> {
    for (const binding of await listStored(this.store, storageKey(CLUSTER_ROLE_BINDINGS))) {
      const subject = subjectsOf(binding).find((s) => appliesTo(user, s, ''));
      if (!subject) continue;
      const ref = roleRefOf(binding);
      const rules = await this.roleRules(ref, undefined);
      if (rules && visit({ source: describeSource('ClusterRoleBinding', binding, undefined, ref, subject), rules })) return;
    }
    if (!namespace) return;
    for (const binding of await listStored(this.store, storageKey(ROLE_BINDINGS, namespace))) {
      const subject = subjectsOf(binding).find((s) => appliesTo(user, s, namespace));
      if (!subject) continue;
      const ref = roleRefOf(binding);
      const rules = await this.roleRules(ref, namespace);
      if (rules && visit({ source: describeSource('RoleBinding', binding, namespace, ref, subject), rules })) return;
    }
  }

  /** rulesFor lists every rule that applies to `user` in `namespace` (cluster-wide ones included). */
  async rulesFor(user: Principal, namespace: string | undefined): Promise<PolicyRule[]> {
    const rules: PolicyRule[] = [];
    await this.grants(user, namespace, (g) => {
      rules.push(...g.rules);
      return false;
    });
    return rules;
  }

  /** allowedBy returns the source of the first binding whose rules allow `attributes`, or undefined. */
  async allowedBy(user: Principal, attributes: AccessAttributes): Promise<string | undefined> {
    let source: string | undefined;
    const namespace = attributes.resourceRequest ? attributes.namespace : undefined;
    await this.grants(user, namespace, (g) => {
      if (g.rules.some((r) => ruleAllows(r, attributes))) source = g.source;
      return source !== undefined;
    });
    return source;
  }
}

function describeSource(kind: string, binding: KubeObject, namespace: string | undefined, ref: RoleRef, subject: Subject): string {
  const name = isRecord(binding.metadata) ? String(binding.metadata.name) : '';
  const where = namespace ? `${kind} "${name}/${namespace}"` : `${kind} "${name}"`;
  const who = subject.kind === 'ServiceAccount' ? `ServiceAccount "${subject.name}/${subject.namespace || namespace}"` : `${subject.kind} "${subject.name}"`;
  return `${where} of ${ref.kind} "${ref.name}" to ${who}`;
}

/**
 * Audit policy in upstream's `audit.k8s.io/v1` Policy format: an ordered list of rules, the first
 * rule that matches a request sets its level (None, Metadata, Request, RequestResponse) and the
 * stages it omits; a request no rule matches is not audited. Matching follows kube-apiserver's
 * policy checker (k8s.io/apiserver/pkg/audit/policy/checker.go): users, userGroups and verbs
 * narrow any rule; a rule with resources or namespaces matches only resource requests, one with
 * nonResourceURLs only non-resource requests (`*` at the end is a prefix wildcard).
 */
import { parse } from 'yaml';
import { isRecord } from '../api/objects.js';

/** Level is how much of a request is recorded. */
export type Level = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
/** Stage is when in a request's life an event is made. */
export type Stage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

const LEVELS: readonly Level[] = ['None', 'Metadata', 'Request', 'RequestResponse'];
const STAGES: readonly Stage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];

/** GroupResources selects resources of one API group ("" is the core group). */
export interface GroupResources {
  group?: string;
  /** `pods`, `pods/log`, `pods/*`, `*\/scale`, `*`; empty: every resource of the group. */
  resources?: string[];
  resourceNames?: string[];
}

/** PolicyRule is one rule (audit.k8s.io/v1 PolicyRule). */
export interface PolicyRule {
  level: Level;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: Stage[];
}

/** Policy is an audit policy (audit.k8s.io/v1 Policy). */
export interface Policy {
  apiVersion: 'audit.k8s.io/v1';
  kind: 'Policy';
  rules: PolicyRule[];
  omitStages?: Stage[];
}

/** AuditAttributes are what a rule is matched against. */
export interface AuditAttributes {
  user?: { username: string; groups: readonly string[] };
  verb: string;
  /** Resource requests: their group, resource, subresource, namespace and name. */
  resource?: { group: string; resource: string; subresource?: string; namespace?: string; name?: string };
  /** Non-resource requests: the path. */
  path: string;
}

/** PolicyDecision is the level of a request and the stages not to record. */
export interface PolicyDecision {
  level: Level;
  omitStages: readonly Stage[];
}

/**
 * DEFAULT_POLICY_YAML is the policy used without a policy file: health, discovery and watch noise
 * and the nodes' and controllers' own reads are not recorded; Secrets, ConfigMaps and token
 * requests/reviews only at Metadata; other reads at Request; writes with their request and response.
 */
export const DEFAULT_POLICY_YAML = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    nonResourceURLs: [/healthz*, /livez*, /readyz*, /version, /metrics, /openapi/*, /api, /api/*, /apis, /apis/*]
  - level: None
    verbs: [watch]
  - level: None
    resources: [{ group: coordination.k8s.io, resources: [leases] }]
  - level: None
    resources: [{ group: "", resources: [events] }, { group: events.k8s.io, resources: [events] }]
  - level: None
    users: [system:controller]
    verbs: [get, list]
  - level: None
    userGroups: [system:nodes]
    verbs: [get, list]
  - level: Metadata
    resources:
      - { group: "", resources: [secrets, configmaps, serviceaccounts/token] }
      - { group: authentication.k8s.io, resources: [tokenreviews] }
  - level: Metadata
    userGroups: [system:nodes]
    verbs: [update, patch]
  - level: Request
    verbs: [get, list]
  - level: RequestResponse
    verbs: [create, update, patch, delete, deletecollection]
  - level: Metadata
`;

function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${where}: expected a list of strings`);
  return value;
}

function stageList(value: unknown, where: string): Stage[] | undefined {
  const list = stringList(value, where);
  const bad = list?.find((s) => !STAGES.includes(s as Stage));
  if (bad !== undefined) throw new Error(`${where}: unknown stage "${bad}" (one of ${STAGES.join(', ')})`);
  return list as Stage[] | undefined;
}

function parseRule(value: unknown, i: number): PolicyRule {
  const where = `rules[${i}]`;
  if (!isRecord(value)) throw new Error(`${where}: expected an object`);
  if (!LEVELS.includes(value.level as Level)) throw new Error(`${where}.level: "${String(value.level)}" is not one of ${LEVELS.join(', ')}`);
  const resources = value.resources === undefined ? undefined : (Array.isArray(value.resources) ? value.resources : [null]).map((r: unknown, j: number) => {
    if (!isRecord(r)) throw new Error(`${where}.resources[${j}]: expected an object`);
    if (r.group !== undefined && typeof r.group !== 'string') throw new Error(`${where}.resources[${j}].group: expected a string`);
    return { group: r.group as string | undefined, resources: stringList(r.resources, `${where}.resources[${j}].resources`), resourceNames: stringList(r.resourceNames, `${where}.resources[${j}].resourceNames`) };
  });
  const rule: PolicyRule = {
    level: value.level as Level, users: stringList(value.users, `${where}.users`), userGroups: stringList(value.userGroups, `${where}.userGroups`),
    verbs: stringList(value.verbs, `${where}.verbs`), resources, namespaces: stringList(value.namespaces, `${where}.namespaces`),
    nonResourceURLs: stringList(value.nonResourceURLs, `${where}.nonResourceURLs`), omitStages: stageList(value.omitStages, `${where}.omitStages`),
  };
  if (rule.nonResourceURLs?.length && (rule.resources?.length || rule.namespaces?.length)) throw new Error(`${where}: rules cannot apply to both regular resources and non-resource URLs`);
  return rule;
}

/** parsePolicy reads a Policy from YAML or JSON text; anything malformed throws, naming the field. */
export function parsePolicy(text: string): Policy {
  const doc: unknown = parse(text);
  if (!isRecord(doc)) throw new Error('an audit policy must be an object');
  if (doc.apiVersion !== 'audit.k8s.io/v1' || doc.kind !== 'Policy') throw new Error(`expected apiVersion audit.k8s.io/v1, kind Policy (got ${String(doc.apiVersion)}, ${String(doc.kind)})`);
  if (!Array.isArray(doc.rules)) throw new Error('rules: expected a list');
  return { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: doc.rules.map(parseRule), omitStages: stageList(doc.omitStages, 'omitStages') };
}

/** DEFAULT_POLICY is DEFAULT_POLICY_YAML parsed. */
export const DEFAULT_POLICY: Policy = parsePolicy(DEFAULT_POLICY_YAML);

const matchesName = (patterns: readonly string[], value: string) => patterns.some((p) => (p.endsWith('*') ? value.startsWith(p.slice(0, -1)) : p === value));

function matchesResource(rule: PolicyRule, r: NonNullable<AuditAttributes['resource']>): boolean {
  if (rule.namespaces?.length && !rule.namespaces.includes(r.namespace ?? '')) return false;
  if (!rule.resources?.length) return true;
  const full = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  return rule.resources.some((gr) => {
    if ((gr.group ?? '') !== r.group) return false;
    if (gr.resourceNames?.length && !gr.resourceNames.includes(r.name ?? '')) return false;
    if (!gr.resources?.length) return true;
    return gr.resources.some((pattern) => pattern === '*' || pattern === full
      || (pattern.endsWith('/*') && r.subresource !== undefined && pattern.slice(0, -2) === r.resource)
      || (pattern.startsWith('*/') && r.subresource === pattern.slice(2)));
  });
}

/** ruleMatches tells whether `rule` applies to a request (upstream's ruleMatches). */
export function ruleMatches(rule: PolicyRule, a: AuditAttributes): boolean {
  if (rule.users?.length && !(a.user && rule.users.includes(a.user.username))) return false;
  if (rule.userGroups?.length && !(a.user && a.user.groups.some((g) => rule.userGroups!.includes(g)))) return false;
  if (rule.verbs?.length && !rule.verbs.includes(a.verb)) return false;
  if (rule.namespaces?.length || rule.resources?.length) return a.resource !== undefined && matchesResource(rule, a.resource);
  if (rule.nonResourceURLs?.length) return a.resource === undefined && matchesName(rule.nonResourceURLs, a.path);
  return true;
}

/** decide returns the level and omitted stages of the first matching rule (None when no rule matches). */
export function decide(policy: Policy, a: AuditAttributes): PolicyDecision {
  const rule = policy.rules.find((r) => ruleMatches(r, a));
  if (!rule) return { level: 'None', omitStages: [] };
  return { level: rule.level, omitStages: [...new Set([...(policy.omitStages ?? []), ...(rule.omitStages ?? [])])] };
}

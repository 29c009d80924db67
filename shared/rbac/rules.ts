/**
 * RBAC rule semantics, as Kubernetes' RBAC authorizer reads a PolicyRule
 * (plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows) and as its escalation check compares two
 * rule sets (k8s.io/component-helpers/auth/rbac/validation: BreakdownRule, Covers). Pure
 * functions: the store is read elsewhere (resolver.ts).
 */

/** PolicyRule is rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  verbs: readonly string[];
  apiGroups?: readonly string[];
  resources?: readonly string[];
  resourceNames?: readonly string[];
  nonResourceURLs?: readonly string[];
}

/**
 * AccessAttributes are what a request asks (upstream's authorizer.Attributes): a resource request
 * (verb on group/resource[/subresource] [name] [in namespace]) or a non-resource one (verb on path).
 */
export type AccessAttributes =
  | { resourceRequest: true; verb: string; apiGroup: string; resource: string; subresource?: string; name?: string; namespace?: string }
  | { resourceRequest: false; verb: string; path: string };

const ALL = '*';

/** verbMatches: the rule names the verb, or `*`. */
export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.includes(ALL) || rule.verbs.includes(verb);
}

/** apiGroupMatches: the rule names the group, or `*`. */
export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

/**
 * resourceMatches: `*`, the exact `resource[/subresource]`, or `*` followed by `/subresource` for a subresource
 * of any resource (upstream's ResourceMatches).
 */
export function resourceMatches(rule: PolicyRule, resource: string, subresource?: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some((r) => r === ALL || r === combined || (subresource !== undefined && subresource !== '' && r === `*/${subresource}`));
}

/** resourceNameMatches: a rule without resourceNames matches every name; one with them only those names (a request without a name matches none). */
export function resourceNameMatches(rule: PolicyRule, name: string | undefined): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return name !== undefined && name !== '' && names.includes(name);
}

/** nonResourceURLMatches: `*`, the exact path, or a prefix ending in `*` (`/apis/*`). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === ALL || u === path || (u.endsWith(ALL) && path.startsWith(u.slice(0, -1))));
}

/** ruleAllows tells whether one rule allows a request (upstream's RuleAllows). */
export function ruleAllows(rule: PolicyRule, a: AccessAttributes): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceURLMatches(rule, a.path);
  return apiGroupMatches(rule, a.apiGroup) && resourceMatches(rule, a.resource, a.subresource) && resourceNameMatches(rule, a.name);
}

/**
 * breakdownRule splits a rule into rules of one verb, group, resource and name each (or one verb
 * and one URL), as upstream's BreakdownRule does before checking coverage.
 */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        for (const name of names) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return out;
}

function hasAll(set: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((w) => set.includes(w));
}

function coversAllOrStar(set: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  const s = set ?? [];
  return s.includes(ALL) || hasAll(s, wanted ?? []);
}

function resourcesCover(owner: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  const set = owner ?? [];
  if (set.includes(ALL) || hasAll(set, wanted ?? [])) return true;
  return (wanted ?? []).every((path) => {
    if (set.includes(path)) return true;
    const slash = path.indexOf('/');
    return slash >= 0 && set.includes(`*/${path.slice(slash + 1)}`);
  });
}

function nonResourceURLsCover(owner: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  return (wanted ?? []).every((w) => (owner ?? []).some((o) => o === ALL || o === w || (o.endsWith(ALL) && w.startsWith(o.slice(0, -1)))));
}

/** ruleCovers tells whether `owner` grants everything `sub` does (upstream's ruleCovers). */
export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const names = owner.resourceNames ?? [];
  const wantedNames = sub.resourceNames ?? [];
  // An owner limited to names covers only requests limited to those names.
  const namesCovered = names.length === 0 || (wantedNames.length > 0 && hasAll(names, wantedNames));
  return coversAllOrStar(owner.verbs, sub.verbs)
    && coversAllOrStar(owner.apiGroups, sub.apiGroups)
    && resourcesCover(owner.resources, sub.resources)
    && nonResourceURLsCover(owner.nonResourceURLs, sub.nonResourceURLs)
    && namesCovered;
}

/**
 * uncoveredRules returns the broken-down rules of `requested` that no rule of `owned` covers
 * (empty: `owned` covers `requested`), as upstream's Covers reports them.
 */
export function uncoveredRules(owned: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of requested) {
    for (const sub of breakdownRule(rule)) {
      if (!owned.some((o) => ruleCovers(o, sub))) missing.push(sub);
    }
  }
  return missing;
}

/** compactRule renders a rule as upstream's CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`. */
export function compactRule(rule: PolicyRule): string {
  const parts: string[] = [];
  const list = (name: string, v: readonly string[] | undefined) => {
    if (v && v.length > 0) parts.push(`${name}:[${v.map((s) => JSON.stringify(s)).join(', ')}]`);
  };
  list('APIGroups', rule.apiGroups);
  list('Resources', rule.resources);
  list('ResourceNames', rule.resourceNames);
  list('NonResourceURLs', rule.nonResourceURLs);
  list('Verbs', rule.verbs);
  return `{${parts.join(', ')}}`;
}

/** policyRulesOf reads the `rules` of a Role or ClusterRole object (malformed entries skipped). */
export function policyRulesOf(obj: Readonly<Record<string, unknown>>): PolicyRule[] {
  const rules = Array.isArray(obj.rules) ? obj.rules : [];
  const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined);
  return rules.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null).map((r) => ({
    verbs: strings(r.verbs) ?? [],
    apiGroups: strings(r.apiGroups),
    resources: strings(r.resources),
    resourceNames: strings(r.resourceNames),
    nonResourceURLs: strings(r.nonResourceURLs),
  }));
}

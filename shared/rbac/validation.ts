/**
 * Defaulting and validation of Roles, ClusterRoles and their bindings with upstream's rules and
 * messages (pkg/apis/rbac/v1/defaults.go, pkg/apis/rbac/validation/validation.go). Imports
 * nothing from the API server: validation.ts and defaults.ts call these through their kind tables.
 */
import { deepEqual, isRecord, type KubeObject } from '../api/objects.js';
import type { StatusCause } from '../api/status.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** isValidPathSegmentName returns the problems of an RBAC object's name (upstream's ValidateRBACName: a path segment). */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  for (const bad of ['/', '%']) if (name.includes(bad)) return [`may not contain '${bad}'`];
  return [];
}

/** defaultBinding sets each subject's apiGroup as upstream's SetDefaults_Subject does. */
export function defaultBinding(obj: KubeObject): void {
  for (const s of Array.isArray(obj.subjects) ? obj.subjects.filter(isRecord) : []) {
    if (s.apiGroup !== undefined && s.apiGroup !== '') continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
    else if (s.kind === 'ServiceAccount') s.apiGroup = '';
  }
}

function cause(reason: string, field: string, message: string): StatusCause {
  return { reason, field, message };
}

const json = (v: unknown): string => JSON.stringify(v);

/** validateRules checks a role's rules (`namespaced`: a Role, which may not name non-resource URLs). */
export function validateRules(obj: KubeObject, namespaced: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const rules = Array.isArray(obj.rules) ? obj.rules : [];
  rules.forEach((r, i) => {
    const rule = isRecord(r) ? r : {};
    const at = `rules[${i}]`;
    const len = (v: unknown) => (Array.isArray(v) ? v.length : 0);
    if (len(rule.verbs) === 0) causes.push(cause('FieldValueRequired', `${at}.verbs`, 'Required value: verbs must contain at least one value'));
    if (len(rule.nonResourceURLs) > 0) {
      if (namespaced) causes.push(cause('FieldValueInvalid', `${at}.nonResourceURLs`, `Invalid value: ${json(rule.nonResourceURLs)}: namespaced rules cannot apply to non-resource URLs`));
      if (len(rule.apiGroups) > 0 || len(rule.resources) > 0) {
        causes.push(cause('FieldValueInvalid', `${at}.nonResourceURLs`, `Invalid value: ${json(rule.nonResourceURLs)}: rules cannot apply to both regular resources and non-resource URLs`));
      }
      return;
    }
    if (len(rule.apiGroups) === 0) causes.push(cause('FieldValueRequired', `${at}.apiGroups`, 'Required value: resource rules must supply at least one api group'));
    if (len(rule.resources) === 0) causes.push(cause('FieldValueRequired', `${at}.resources`, 'Required value: resource rules must supply at least one resource'));
  });
  return causes;
}

/** validateRole checks a Role (namespaced) or ClusterRole. */
export function validateRole(namespaced: boolean): (obj: KubeObject) => StatusCause[] {
  return (obj) => validateRules(obj, namespaced);
}

/** validateBinding checks a RoleBinding (namespaced) or ClusterRoleBinding: roleRef and subjects. */
export function validateBinding(namespaced: boolean): (obj: KubeObject) => StatusCause[] {
  return (obj) => {
    const causes: StatusCause[] = [];
    const ref = isRecord(obj.roleRef) ? obj.roleRef : {};
    if (ref.apiGroup !== RBAC_GROUP) causes.push(cause('FieldValueNotSupported', 'roleRef.apiGroup', `Unsupported value: ${json(ref.apiGroup ?? '')}: supported values: "${RBAC_GROUP}"`));
    const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
    if (!kinds.includes(String(ref.kind))) causes.push(cause('FieldValueNotSupported', 'roleRef.kind', `Unsupported value: ${json(ref.kind ?? '')}: supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`));
    if (typeof ref.name !== 'string' || ref.name === '') causes.push(cause('FieldValueRequired', 'roleRef.name', 'Required value'));
    else for (const p of isValidPathSegmentName(ref.name)) causes.push(cause('FieldValueInvalid', 'roleRef.name', `Invalid value: ${json(ref.name)}: ${p}`));
    const subjects = Array.isArray(obj.subjects) ? obj.subjects : [];
    subjects.forEach((s, i) => causes.push(...validateSubject(isRecord(s) ? s : {}, `subjects[${i}]`, namespaced)));
    return causes;
  };
}

function validateSubject(s: Record<string, unknown>, at: string, namespaced: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  if (typeof s.name !== 'string' || s.name === '') causes.push(cause('FieldValueRequired', `${at}.name`, 'Required value'));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.apiGroup !== undefined && s.apiGroup !== '') causes.push(cause('FieldValueNotSupported', `${at}.apiGroup`, `Unsupported value: ${json(s.apiGroup)}: supported values: ""`));
      if (!namespaced && (typeof s.namespace !== 'string' || s.namespace === '')) causes.push(cause('FieldValueRequired', `${at}.namespace`, 'Required value'));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) causes.push(cause('FieldValueNotSupported', `${at}.apiGroup`, `Unsupported value: ${json(s.apiGroup ?? '')}: supported values: "${RBAC_GROUP}"`));
      break;
    default:
      causes.push(cause('FieldValueNotSupported', `${at}.kind`, `Unsupported value: ${json(s.kind ?? '')}: supported values: "ServiceAccount", "User", "Group"`));
  }
  return causes;
}

/** bindingUpdateCauses: a binding's roleRef is immutable (upstream: `cannot change roleRef`). */
export function bindingUpdateCauses(obj: KubeObject, old: KubeObject): StatusCause[] {
  if (deepEqual(obj.roleRef, old.roleRef)) return [];
  return [cause('FieldValueInvalid', 'roleRef', `Invalid value: ${json(obj.roleRef)}: cannot change roleRef`)];
}

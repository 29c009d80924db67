/**
 * The access reviews, create-only and never stored (upstream's pkg/registry/authorization and
 * authentication/selfsubjectreview): SelfSubjectAccessReview (may I?), SubjectAccessReview and
 * LocalSubjectAccessReview (may they?), SelfSubjectRulesReview (what may I do in a namespace?)
 * and SelfSubjectReview (who am I?). `kubectl auth can-i` and `kubectl auth whoami` post them.
 * The answer is the posted object with its `status`, 201 Created.
 */
import { isRecord, type KubeObject } from '../api/objects.js';
import { badRequest, invalid, resourceNotFound, type StatusCause } from '../api/status.js';
import type { AccessReviewer, HandlerContext, UserInfo } from '../apiserver/context.js';
import { readBody } from '../apiserver/body.js';
import { jsonResponse } from '../apiserver/respond.js';
import { asObject, assertApiVersionKind } from '../apiserver/write.js';
import { groupVersion } from '../api/resources.js';
import type { AccessAttributes, PolicyRule } from './rules.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** reviewAttributes reads a review spec's resourceAttributes or nonResourceAttributes (422 unless exactly one). */
function reviewAttributes(kind: string, spec: Record<string, unknown>): AccessAttributes {
  const r = isRecord(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const n = isRecord(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if ((r === undefined) === (n === undefined)) {
    const cause: StatusCause = { reason: 'FieldValueInvalid', field: 'spec.resourceAttributes', message: `Invalid value: ${r ? 'resourceAttributes' : '"null"'}: exactly one of nonResourceAttributes or resourceAttributes must be specified` };
    throw invalid('authorization.k8s.io', kind, '', [cause]);
  }
  if (n) return { resourceRequest: false, verb: str(n.verb), path: str(n.path) };
  return {
    resourceRequest: true, verb: str(r!.verb), apiGroup: str(r!.group), resource: str(r!.resource),
    subresource: str(r!.subresource) || undefined, name: str(r!.name) || undefined, namespace: str(r!.namespace) || undefined,
  };
}

/** reviewAnswer is a review's response: the posted object with its `status`, never stored (no resourceVersion), 201 Created. */
export function reviewAnswer(obj: KubeObject, status: Record<string, unknown>): Response {
  const metadata = isRecord(obj.metadata) ? { ...obj.metadata } : {};
  delete metadata.resourceVersion;
  return jsonResponse({ ...obj, metadata: { ...metadata, creationTimestamp: null }, status }, 201);
}

async function accessReviewStatus(access: AccessReviewer, user: UserInfo, a: AccessAttributes): Promise<Record<string, unknown>> {
  const d = await access.decide(user, a);
  return { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) };
}

/** userInfoStatus renders a user as authentication.k8s.io's UserInfo (empty uid and extra left out, as upstream's omitempty). */
export function userInfoStatus(user: UserInfo): Record<string, unknown> {
  const extra = user.extra && Object.keys(user.extra).length > 0 ? { extra: user.extra } : {};
  return { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...extra };
}

/** subjectOf reads a SubjectAccessReview's user (no group is added: the review asks about exactly who it names). */
function subjectOf(kind: string, spec: Record<string, unknown>): UserInfo {
  const groups = Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [];
  if (str(spec.user) === '' && groups.length === 0) {
    throw invalid('authorization.k8s.io', kind, '', [{ reason: 'FieldValueInvalid', field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' }]);
  }
  const extra = isRecord(spec.extra) ? Object.fromEntries(Object.entries(spec.extra).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : []])) : undefined;
  return { username: str(spec.user), groups, uid: str(spec.uid) || undefined, extra };
}

function rulesStatus(rules: readonly PolicyRule[], incomplete: boolean): Record<string, unknown> {
  const resourceRules = rules.filter((r) => (r.nonResourceURLs ?? []).length === 0).map((r) => ({
    verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
  }));
  const nonResourceRules = rules.filter((r) => (r.nonResourceURLs ?? []).length > 0).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
  return { resourceRules, nonResourceRules, incomplete };
}

/** isReview tells whether a create is one of the reviews this file answers. */
export function isReview(kind: string): boolean {
  return ['SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview', 'SelfSubjectReview'].includes(kind);
}

/** handleReview answers the create of a review (see the file comment); 404 when the server has no authorization chain. */
export async function handleReview(ctx: HandlerContext): Promise<Response> {
  const { resource } = ctx.info;
  const access = ctx.access;
  if (!access) throw resourceNotFound();
  const obj = asObject((await readBody(ctx.request)).value);
  assertApiVersionKind(obj, groupVersion(resource), resource.kind);
  const spec = isRecord(obj.spec) ? obj.spec : {};
  switch (resource.kind) {
    case 'SelfSubjectReview':
      return reviewAnswer(obj, { userInfo: userInfoStatus(ctx.user) });
    case 'SelfSubjectAccessReview':
      return reviewAnswer(obj, await accessReviewStatus(access, ctx.user, reviewAttributes(resource.kind, spec)));
    case 'SubjectAccessReview':
      return reviewAnswer(obj, await accessReviewStatus(access, subjectOf(resource.kind, spec), reviewAttributes(resource.kind, spec)));
    case 'LocalSubjectAccessReview': {
      const a = reviewAttributes(resource.kind, spec);
      if (!a.resourceRequest) throw invalid('authorization.k8s.io', resource.kind, '', [{ reason: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', message: 'Invalid value: "nonResourceAttributes": disallowed on this kind of request' }]);
      if (a.namespace !== undefined && a.namespace !== ctx.info.namespace) {
        throw invalid('authorization.k8s.io', resource.kind, '', [{ reason: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', message: `Invalid value: "${a.namespace}": must match metadata.namespace` }]);
      }
      return reviewAnswer(obj, await accessReviewStatus(access, subjectOf(resource.kind, spec), { ...a, namespace: ctx.info.namespace }));
    }
    case 'SelfSubjectRulesReview': {
      const { rules, incomplete } = await access.rulesFor(ctx.user, str(spec.namespace) || undefined);
      return reviewAnswer(obj, rulesStatus(rules, incomplete));
    }
    default:
      throw badRequest(`${resource.kind} is not a review`);
  }
}

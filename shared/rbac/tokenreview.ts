/**
 * TokenReview (`POST /apis/authentication.k8s.io/v1/tokenreviews`, create only, never stored):
 * runs the API server's own authenticator chain on `spec.token`, as kube-apiserver's
 * pkg/registry/authentication/tokenreview/storage.go does, for the audiences in `spec.audiences`
 * (none: the API server's own). The answer's status says whether the token authenticated, as whom
 * (`user`: username, uid, groups with `system:authenticated`, extra), for which of the asked
 * audiences the token is good (`audiences`: the intersection), or why not (`error`, in upstream's
 * words). Allowed to whoever may `create tokenreviews` (system:auth-delegator, nodes, masters);
 * the audit log records it at Metadata only, so the token is never written down.
 */
import { isRecord } from '../api/objects.js';
import { badRequest, serviceUnavailable } from '../api/status.js';
import type { HandlerContext } from '../apiserver/context.js';
import { readBody } from '../apiserver/body.js';
import { asObject, assertApiVersionKind } from '../apiserver/write.js';
import { reviewAnswer, userInfoStatus } from './reviews.js';

/** handleTokenReview answers the create of a TokenReview (see the file comment). */
export async function handleTokenReview(ctx: HandlerContext): Promise<Response> {
  const review = ctx.reviewToken;
  if (!review) throw serviceUnavailable('token review is not configured');
  const obj = asObject((await readBody(ctx.request)).value);
  assertApiVersionKind(obj, 'authentication.k8s.io/v1', 'TokenReview');
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const token = typeof spec.token === 'string' ? spec.token : '';
  if (token === '') throw badRequest('token is required for TokenReview in authentication');
  const audiences = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === 'string') : [];
  const result = await review(token, audiences);
  if (!result.user) return reviewAnswer(obj, { user: {}, ...(result.error ? { error: result.error } : {}) });
  return reviewAnswer(obj, { authenticated: true, user: userInfoStatus(result.user), ...(result.audiences.length > 0 ? { audiences: result.audiences } : {}) });
}

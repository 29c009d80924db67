/**
 * TokenRequest (`POST .../serviceaccounts/<name>/token`, `kubectl create token`): validates the
 * request as upstream (pkg/apis/authentication/validation: at least 10 minutes, at most 2^32
 * seconds; default one hour), checks the ServiceAccount exists, binds the token to a Pod when
 * `boundObjectRef` names one (upstream's pkg/registry/core/serviceaccount/storage/token.go: the
 * pod must exist, run as this ServiceAccount and have the uid given; the token then dies with the
 * pod), refuses binding to a Secret or Node (not built: 422), applies NodeRestriction's rule to a
 * node (it may only ask for tokens bound to a pod bound to it: 403), and answers 201 with
 * `status.token` and `status.expirationTimestamp`. Never stored.
 */
import { isRecord, readMetadata, rfc3339Now } from '../api/objects.js';
import { badRequest, conflict, forbidden, invalid, notFound, serviceUnavailable } from '../api/status.js';
import { findResourceByKind, storageKey } from '../api/resources.js';
import { nodeNameOf } from '../apiserver/authorize.js';
import { decode } from '../apiserver/storage.js';
import type { HandlerContext } from '../apiserver/context.js';
import { readBody } from '../apiserver/body.js';
import { jsonResponse } from '../apiserver/respond.js';
import { loadObject } from '../apiserver/storage.js';
import { asObject, assertApiVersionKind } from '../apiserver/write.js';

const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

/** handleTokenRequest answers the create of a ServiceAccount's TokenRequest (see the file comment). */
export async function handleTokenRequest(ctx: HandlerContext): Promise<Response> {
  const issuer = ctx.tokenIssuer;
  if (!issuer) throw serviceUnavailable('ServiceAccount token issuance is not configured');
  const obj = asObject((await readBody(ctx.request)).value);
  assertApiVersionKind(obj, 'authentication.k8s.io/v1', 'TokenRequest');
  const spec = isRecord(obj.spec) ? { ...obj.spec } : {};
  const name = ctx.info.name ?? '';
  const expirationSeconds = spec.expirationSeconds === undefined ? DEFAULT_EXPIRATION_SECONDS : Number(spec.expirationSeconds);
  const tooShort = expirationSeconds < MIN_EXPIRATION_SECONDS;
  if (tooShort || expirationSeconds > MAX_EXPIRATION_SECONDS || !Number.isInteger(expirationSeconds)) {
    const message = `Invalid value: ${expirationSeconds}: may not specify a duration ${tooShort ? 'less than 10 minutes' : 'larger than 2^32 seconds'}`;
    throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message }]);
  }
  const ref = isRecord(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  if (ref && ref.kind !== 'Pod') {
    // Unsupported options fail loudly: a token bound to a Secret or Node would have to die with that object too.
    throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ reason: 'FieldValueForbidden', field: 'spec.boundObjectRef', message: 'Forbidden: binding a token to an object other than a Pod or its ServiceAccount is not supported by this server' }]);
  }
  const node = nodeNameOf(ctx.user);
  if (node !== undefined && !ref) throw forbidden('', 'serviceaccounts', name, 'node requested token not bound to a pod');
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [...issuer.defaultAudiences];
  const kv = await loadObject(ctx).catch(() => {
    throw notFound('', 'serviceaccounts', name);
  });
  const uid = String(readMetadata(kv.value).uid ?? '');
  const pod = ref ? await boundPod(ctx, name, ref, node) : undefined;
  const now = ctx.now();
  const token = await issuer.issue({ namespace: ctx.info.namespace ?? '', name, uid, audiences, expirationSeconds, now, pod });
  const expirationTimestamp = rfc3339Now(new Date(now.getTime() + expirationSeconds * 1000));
  const metadata = { ...(isRecord(obj.metadata) ? obj.metadata : {}), name, namespace: ctx.info.namespace, creationTimestamp: rfc3339Now(now) };
  return jsonResponse({ ...obj, metadata, spec: { ...spec, audiences, expirationSeconds }, status: { token, expirationTimestamp } }, 201);
}

const PODS = findResourceByKind('v1', 'Pod')!;

/**
 * boundPod checks the Pod a token is to be bound to (upstream's messages): it exists (404), has
 * the uid the reference gives (409), runs as ServiceAccount `serviceAccount` (400), and, for a node
 * (NodeRestriction), is bound to that node (403). Returns its name and uid.
 */
async function boundPod(ctx: HandlerContext, serviceAccount: string, ref: Record<string, unknown>, node: string | undefined): Promise<{ name: string; uid: string }> {
  const podName = String(ref.name ?? '');
  const kv = await ctx.store.get(storageKey(PODS, ctx.info.namespace, podName));
  if (!kv) throw notFound('', 'pods', podName);
  const pod = decode(kv);
  const meta = readMetadata(pod);
  const podUid = String(meta.uid ?? '');
  if (typeof ref.uid === 'string' && ref.uid !== '' && ref.uid !== podUid) {
    throw conflict('', 'pods', podName, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  const spec = isRecord(pod.spec) ? pod.spec : {};
  if (spec.serviceAccountName !== serviceAccount) {
    throw badRequest(`cannot bind token for serviceaccount "${serviceAccount}" to pod running with different serviceaccount name.`);
  }
  if (node !== undefined && spec.nodeName !== node) throw forbidden('', 'serviceaccounts', serviceAccount, 'node requested token bound to a pod scheduled on a different node');
  return { name: podName, uid: podUid };
}

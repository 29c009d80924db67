/**
 * TokenRequest (`POST .../serviceaccounts/<name>/token`, `kubectl create token`): validates the
 * request as upstream (pkg/apis/authentication/validation: at least 10 minutes, at most 2^32
 * seconds; default one hour), refuses `boundObjectRef` (binding to a Pod, Secret or Node is not
 * built: 422), checks the ServiceAccount exists, and answers 201 with
 * `status.token` and `status.expirationTimestamp`. Never stored.
 */
import { isRecord, readMetadata, rfc3339Now } from '../api/objects.js';
import { invalid, notFound, serviceUnavailable } from '../api/status.js';
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
  if (spec.boundObjectRef !== undefined && spec.boundObjectRef !== null) {
    // Unsupported options fail loudly: a token bound to a Pod, Secret or Node would have to die with that object too.
    throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ reason: 'FieldValueForbidden', field: 'spec.boundObjectRef', message: 'Forbidden: binding a token to an object other than its ServiceAccount is not supported by this server' }]);
  }
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [...issuer.defaultAudiences];
  const kv = await loadObject(ctx).catch(() => {
    throw notFound('', 'serviceaccounts', name);
  });
  const uid = String(readMetadata(kv.value).uid ?? '');
  const now = ctx.now();
  const token = await issuer.issue({ namespace: ctx.info.namespace ?? '', name, uid, audiences, expirationSeconds, now });
  const expirationTimestamp = rfc3339Now(new Date(now.getTime() + expirationSeconds * 1000));
  const metadata = { ...(isRecord(obj.metadata) ? obj.metadata : {}), name, namespace: ctx.info.namespace, creationTimestamp: rfc3339Now(now) };
  return jsonResponse({ ...obj, metadata, spec: { ...spec, audiences, expirationSeconds }, status: { token, expirationTimestamp } }, 201);
}

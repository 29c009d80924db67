/**
 * TokenRequest (`POST .../serviceaccounts/<name>/token`, `kubectl create token`): validates the
 * request as upstream (pkg/apis/authentication/validation: at least 10 minutes, at most 2^32
 * seconds; default one hour), checks the ServiceAccount exists, binds the token to the object
 * `boundObjectRef` names, as upstream's pkg/registry/core/serviceaccount/storage/token.go: a Pod
 * (it must run as this ServiceAccount; the token also names the Pod's node), a Secret or a Node
 * (each must exist and have the uid given; the token then dies with it), applies NodeRestriction's
 * rule to a node (it may only ask for tokens bound to a pod bound to it: 403), and answers 201
 * with `status.token` and `status.expirationTimestamp`. Never stored.
 */
import { isRecord, readMetadata, rfc3339Now } from '../api/objects.js';
import { badRequest, conflict, forbidden, invalid, notFound, serviceUnavailable } from '../api/status.js';
import { findResourceByKind, storageKey, type ResourceType } from '../api/resources.js';
import { nodeNameOf } from '../apiserver/authorize.js';
import { decode } from '../apiserver/storage.js';
import type { HandlerContext, TokenClaims } from '../apiserver/context.js';
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
  const node = nodeNameOf(ctx.user);
  if (node !== undefined && ref?.kind !== 'Pod') throw forbidden('', 'serviceaccounts', name, 'node requested token not bound to a pod');
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [...issuer.defaultAudiences];
  const kv = await loadObject(ctx).catch(() => {
    throw notFound('', 'serviceaccounts', name);
  });
  const uid = String(readMetadata(kv.value).uid ?? '');
  const bound = ref ? await boundObject(ctx, name, ref, node) : {};
  const now = ctx.now();
  const token = await issuer.issue({ namespace: ctx.info.namespace ?? '', name, uid, audiences, expirationSeconds, now, ...bound });
  const expirationTimestamp = rfc3339Now(new Date(now.getTime() + expirationSeconds * 1000));
  const metadata = { ...(isRecord(obj.metadata) ? obj.metadata : {}), name, namespace: ctx.info.namespace, creationTimestamp: rfc3339Now(now) };
  return jsonResponse({ ...obj, metadata, spec: { ...spec, audiences, expirationSeconds }, status: { token, expirationTimestamp } }, 201);
}

const BINDABLE: Readonly<Record<string, ResourceType>> = {
  Pod: findResourceByKind('v1', 'Pod')!,
  Secret: findResourceByKind('v1', 'Secret')!,
  Node: findResourceByKind('v1', 'Node')!,
};

/** readBound reads the object a reference names (404 in upstream's words when absent) and its uid. */
async function readBound(ctx: HandlerContext, resource: ResourceType, name: string): Promise<{ obj: Record<string, unknown>; uid: string }> {
  const kv = await ctx.store.get(storageKey(resource, resource.namespaced ? ctx.info.namespace : undefined, name));
  if (!kv) throw notFound(resource.group, resource.plural, name);
  const obj = decode(kv);
  return { obj, uid: String(readMetadata(obj).uid ?? '') };
}

/**
 * boundObject checks the object a token is to be bound to (upstream's checks and messages): a
 * core (`v1`) Pod, Secret or Node (400 otherwise) that exists (404) with the uid the reference
 * gives (409); a Pod must run as ServiceAccount `serviceAccount` (400) and, for a node
 * (NodeRestriction), be bound to that node (403). Returns the claims: a Pod's come with its node
 * (without a uid when that Node is not found, as upstream).
 */
async function boundObject(ctx: HandlerContext, serviceAccount: string, ref: Record<string, unknown>, node: string | undefined): Promise<Pick<TokenClaims, 'pod' | 'secret' | 'node'>> {
  const [apiVersion, kind, name] = [String(ref.apiVersion ?? ''), String(ref.kind ?? ''), String(ref.name ?? '')];
  const resource = apiVersion === 'v1' && Object.hasOwn(BINDABLE, kind) ? BINDABLE[kind] : undefined;
  if (!resource) {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    throw badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`);
  }
  const { obj, uid } = await readBound(ctx, resource, name);
  if (typeof ref.uid === 'string' && ref.uid !== '' && ref.uid !== uid) {
    // Upstream names the kind here, not the resource: `Operation cannot be fulfilled on Pod "p"`.
    throw conflict('', kind, name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  if (kind === 'Secret') return { secret: { name, uid } };
  if (kind === 'Node') return { node: { name, uid } };
  const spec = isRecord(obj.spec) ? obj.spec : {};
  if (spec.serviceAccountName !== serviceAccount) {
    throw badRequest(`cannot bind token for serviceaccount "${serviceAccount}" to pod running with different serviceaccount name.`);
  }
  if (node !== undefined && spec.nodeName !== node) throw forbidden('', 'serviceaccounts', serviceAccount, 'node requested token bound to a pod scheduled on a different node');
  const nodeName = typeof spec.nodeName === 'string' && spec.nodeName !== '' ? spec.nodeName : undefined;
  const nodeKv = nodeName === undefined ? undefined : await ctx.store.get(storageKey(BINDABLE.Node!, undefined, nodeName));
  const podNode = nodeName === undefined ? undefined : { name: nodeName, uid: nodeKv ? String(readMetadata(nodeKv.value).uid ?? '') : undefined };
  return { pod: { name, uid }, node: podNode };
}

/**
 * The scale subresource (autoscaling/v1 Scale) of deployments and replicasets: read, replace
 * and patch `spec.replicas` without touching the rest of the object.
 */
import { ApiError, badRequest, conflict, invalid } from '../api/status.js';
import { formatLabelSelector, fromLabelSelectorObject } from '../api/selectors.js';
import { isRecord, readMetadata, type KubeObject } from '../api/objects.js';
import type { KeyValue } from '../store/store.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { decode, loadObject, parseResourceVersion } from './storage.js';
import { jsonResponse } from './respond.js';
import { commitUpdate, fieldManagerOf, retryOnConflict } from './write.js';

/** toScale renders a deployment or replicaset as its Scale. */
export function toScale(obj: KubeObject): KubeObject {
  const meta = readMetadata(obj);
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const status = isRecord(obj.status) ? obj.status : {};
  const selector = fromLabelSelectorObject(spec.selector);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion, creationTimestamp: meta.creationTimestamp },
    spec: { replicas: Number(spec.replicas ?? 0) },
    status: { replicas: Number(status.replicas ?? 0), ...(selector ? { selector: formatLabelSelector(selector) } : {}) },
  };
}

/** getScale answers GET on `<resource>/<name>/scale`. */
export async function getScale(ctx: HandlerContext): Promise<Response> {
  return jsonResponse(toScale(decode(await loadObject(ctx))));
}

async function writeScale(ctx: HandlerContext, peers: Peers, kv: KeyValue, scale: KubeObject, dryRun: boolean): Promise<KubeObject> {
  const { resource } = ctx.info;
  const current = decode(kv);
  const replicas = isRecord(scale.spec) ? scale.spec.replicas : undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid('autoscaling', 'Scale', ctx.info.name!, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
  }
  const rv = readMetadata(scale).resourceVersion;
  if (rv && parseResourceVersion(String(rv)) !== kv.modRevision) throw conflict(resource.group, resource.plural, ctx.info.name!);
  const desired = { ...current, spec: { ...(current.spec as object), replicas } };
  const result = await commitUpdate(ctx, peers, kv, desired, { manager: fieldManagerOf(ctx), operation: 'Update', dryRun, subresource: 'scale' });
  return toScale(result.object);
}

/** updateScale answers PUT on `<resource>/<name>/scale`. */
export async function updateScale(ctx: HandlerContext, peers: Peers, body: KubeObject, dryRun: boolean): Promise<Response> {
  if (body.kind !== undefined && body.kind !== 'Scale') throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (autoscaling/v1)`);
  const name = readMetadata(body).name;
  if (name && name !== ctx.info.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${ctx.info.name})`);
  const result = await retryOnConflict(ctx, async () => writeScale(ctx, peers, await loadObject(ctx), body, dryRun));
  return jsonResponse(result);
}

/** patchScale applies a patch to the Scale view of `kv` and writes the replicas back. */
export async function patchScale(
  ctx: HandlerContext, peers: Peers, kv: KeyValue, type: 'json' | 'merge' | 'strategic', patch: unknown, dryRun: boolean,
): Promise<KubeObject> {
  if (!peers.applyPatch) throw new ApiError(415, 'UnsupportedMediaType', 'patching is not available on this server yet');
  const scale = toScale(decode(kv));
  const patched = peers.applyPatch(type, scale, patch, { apiVersion: 'autoscaling/v1', kind: 'Scale' });
  return writeScale(ctx, peers, kv, patched, dryRun);
}

/**
 * pods/binding: the scheduler's POST of a Binding assigns a pod to a node (spec.nodeName) and
 * marks it PodScheduled; a pod already bound is 409 Conflict, as Kubernetes.
 */
import { ApiError, badRequest, conflict } from '../api/status.js';
import { isRecord, readMetadata, rfc3339Now, type KubeObject } from '../api/objects.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { readBody } from './body.js';
import { decode, loadObject } from './storage.js';
import { jsonResponse, successStatus } from './respond.js';
import { commitUpdate, isDryRun, retryOnConflict } from './write.js';

function bound(pod: KubeObject, node: string, now: string): KubeObject {
  const status = isRecord(pod.status) ? pod.status : {};
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter((c) => !(isRecord(c) && c.type === 'PodScheduled'));
  conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
  return { ...pod, spec: { ...(pod.spec as object), nodeName: node }, status: { ...status, conditions } };
}

/** handleBinding answers POST on `pods/<name>/binding`: 201 with a Success Status. */
export async function handleBinding(ctx: HandlerContext, peers: Peers): Promise<Response> {
  const dryRun = isDryRun(ctx.query);
  const body = (await readBody(ctx.request)).value;
  if (!isRecord(body) || !isRecord(body.target) || typeof body.target.name !== 'string' || body.target.name === '') {
    throw new ApiError(422, 'Invalid', `Binding "${ctx.info.name}" is invalid: target.name: Required value`, {
      name: ctx.info.name, kind: 'Binding', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }],
    });
  }
  if (body.target.kind !== undefined && body.target.kind !== '' && body.target.kind !== 'Node') throw badRequest('binding target must be a Node');
  const node = body.target.name;
  const bodyName = readMetadata(body).name;
  if (bodyName && bodyName !== ctx.info.name) throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${ctx.info.name})`);
  await retryOnConflict(ctx, async () => {
    const kv = await loadObject(ctx);
    const pod = decode(kv);
    const meta = readMetadata(pod);
    if (meta.deletionTimestamp) throw conflict('', 'pods', ctx.info.name!, 'pod is being deleted, cannot be assigned to a host');
    const spec = isRecord(pod.spec) ? pod.spec : {};
    if (spec.nodeName) throw conflict('', 'pods', ctx.info.name!, `pod ${ctx.info.name} is already assigned to node "${String(spec.nodeName)}"`);
    // Binding writes spec.nodeName, which a plain update may not; write through the status path's sibling.
    return commitUpdate(ctx, peers, kv, bound(pod, node, rfc3339Now(ctx.now())), { manager: 'kube-scheduler', operation: 'Update', dryRun, subresource: 'binding' });
  });
  return jsonResponse(successStatus(ctx.info, { code: 201 }), 201);
}

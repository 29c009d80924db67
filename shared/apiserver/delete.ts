/**
 * delete and deletecollection. An object with finalizers (or, for Foreground/Orphan propagation,
 * the `foregroundDeletion`/`orphan` finalizer the garbage collector — a later issue — removes)
 * gets a deletionTimestamp and stays until its finalizers are gone. A Pod bound to a node is
 * deleted gracefully: it keeps a deletionTimestamp until the node agent confirms with a
 * gracePeriodSeconds=0 delete. A Namespace turns Terminating until the namespace controller
 * empties it and clears spec.finalizers through `finalize`.
 */
import { storageKey } from '../api/resources.js';
import { conflict, forbidden } from '../api/status.js';
import { isRecord, metadataOf, readMetadata, rfc3339Now, type KubeObject } from '../api/objects.js';
import { KINDS_WITH_GENERATION } from '../api/defaults.js';
import type { KeyValue } from '../store/store.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { decode, encode, loadObject } from './storage.js';
import { jsonResponse, successStatus } from './respond.js';
import { parseDeleteOptions, type DeleteOptions } from './deleteoptions.js';
import { retryOnConflict } from './write.js';
import { parseListRequest, readList } from './list.js';
import { SYSTEM_NAMESPACES } from './namespaces.js';
import { negotiateOutput, renderList } from './output.js';
import { releaseServiceAddresses } from './services.js';

/** Kinds whose delete answers the deleted object rather than a Success Status (ReturnDeletedObject in their registries). */
const RETURNS_DELETED_OBJECT = new Set(['Pod', 'Service']);

/** DeleteResult is the object after the delete and whether it left the store. */
export interface DeleteResult {
  object: KubeObject;
  deleted: boolean;
}

function checkPreconditions(ctx: HandlerContext, obj: KubeObject, opts: DeleteOptions): void {
  const meta = readMetadata(obj);
  const { group, plural } = ctx.info.resource;
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== meta.uid) {
    throw conflict(group, plural, String(meta.name), `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
    throw conflict(group, plural, String(meta.name), `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`);
  }
}

/** podGracePeriod is the grace a Pod delete gets: 0 when unbound or finished, else the option or the spec's. */
function podGracePeriod(pod: KubeObject, opts: DeleteOptions): number {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const phase = isRecord(pod.status) ? pod.status.phase : undefined;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  return opts.gracePeriodSeconds ?? Number(spec.terminationGracePeriodSeconds ?? 30);
}

function finalizersFor(meta: Readonly<Record<string, unknown>>, policy: DeleteOptions['propagationPolicy']): string[] {
  let f = Array.isArray(meta.finalizers) ? [...(meta.finalizers as string[])] : [];
  // The garbage collector (a later issue) removes these once dependents are deleted or orphaned.
  if (policy === 'Foreground') f = [...f.filter((x) => x !== 'orphan'), ...(f.includes('foregroundDeletion') ? [] : ['foregroundDeletion'])];
  if (policy === 'Orphan') f = [...f.filter((x) => x !== 'foregroundDeletion'), ...(f.includes('orphan') ? [] : ['orphan'])];
  return f;
}

/** deleteStored deletes (or marks for deletion) one stored object; a lost race throws StoreError Conflict. */
export async function deleteStored(ctx: HandlerContext, kv: KeyValue, opts: DeleteOptions): Promise<DeleteResult> {
  const { resource } = ctx.info;
  const current = decode(kv);
  checkPreconditions(ctx, current, opts);
  const meta = readMetadata(current);
  const grace = resource.kind === 'Pod' ? podGracePeriod(current, opts) : 0;
  const finalizers = finalizersFor(meta, opts.propagationPolicy);
  const specFinalizers = resource.kind === 'Namespace' && isRecord(current.spec) && Array.isArray(current.spec.finalizers) ? current.spec.finalizers : [];
  const mustWait = finalizers.length > 0 || grace > 0 || specFinalizers.length > 0;
  if (!mustWait) {
    if (opts.dryRun) return { object: current, deleted: true };
    await ctx.store.delete(kv.key, kv.modRevision);
    if (resource.kind === 'Service') await releaseServiceAddresses(ctx.store, ctx.serviceNetwork, current);
    return { object: current, deleted: true };
  }
  const already = meta.deletionTimestamp !== undefined;
  const next: KubeObject = structuredClone(current);
  const m = metadataOf(next);
  const now = ctx.now();
  // A second delete may only shorten a pending grace period (and may change the propagation finalizers).
  const pendingGrace = Number(meta.deletionGracePeriodSeconds ?? 0);
  if (!already || grace < pendingGrace) {
    m.deletionTimestamp = rfc3339Now(new Date(now.getTime() + grace * 1000));
    m.deletionGracePeriodSeconds = grace;
  }
  m.finalizers = finalizers;
  if (finalizers.length === 0) delete m.finalizers;
  if (!already && KINDS_WITH_GENERATION.has(resource.kind)) m.generation = Number(meta.generation ?? 1) + 1;
  if (resource.kind === 'Namespace') next.status = { ...(isRecord(next.status) ? next.status : {}), phase: 'Terminating' };
  if (already && JSON.stringify(next) === JSON.stringify(current)) return { object: current, deleted: false };
  if (opts.dryRun) return { object: next, deleted: false };
  return { object: decode(await ctx.store.update(kv.key, encode(next), kv.modRevision)), deleted: false };
}

/** deleteResponse renders the answer Kubernetes gives for one delete. */
function deleteResponse(ctx: HandlerContext, result: DeleteResult): Response {
  if (!result.deleted || RETURNS_DELETED_OBJECT.has(ctx.info.resource.kind)) return jsonResponse(result.object, 200);
  return jsonResponse(successStatus(ctx.info, { uid: readMetadata(result.object).uid }), 200);
}

/** handleDelete answers DELETE on a named object. */
export async function handleDelete(ctx: HandlerContext, _peers: Peers): Promise<Response> {
  const { info } = ctx;
  if (info.resource.kind === 'Namespace' && (SYSTEM_NAMESPACES as readonly string[]).includes(info.name!)) {
    throw forbidden('', 'namespaces', info.name!, 'this namespace may not be deleted');
  }
  const opts = await parseDeleteOptions(ctx.request, ctx.query);
  const result = await retryOnConflict(ctx, async () => deleteStored(ctx, await loadObject(ctx), opts));
  return deleteResponse(ctx, result);
}

/** handleDeleteCollection deletes every object the selectors match; answers the list of what was deleted. */
export async function handleDeleteCollection(ctx: HandlerContext, peers: Peers): Promise<Response> {
  const { resource, namespace } = ctx.info;
  const opts = await parseDeleteOptions(ctx.request, ctx.query);
  const req = await parseListRequest(ctx);
  const page = await readList(ctx, storageKey(resource, namespace), req);
  const done: KubeObject[] = [];
  for (const obj of page.items) {
    const name = String(readMetadata(obj).name);
    const one: HandlerContext = { ...ctx, info: { ...ctx.info, verb: 'delete', name, namespace: readMetadata(obj).namespace } };
    try {
      const result = await retryOnConflict(one, async () => deleteStored(one, await loadObject(one), opts));
      done.push(result.object);
    } catch (err) {
      // Gone in the meantime: someone else deleted it, which is what was asked.
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
  return jsonResponse(renderList(negotiateOutput(ctx.request), peers, resource, ctx.query, done, page.listMeta));
}

/**
 * The garbage collector's reconcile: given one owner (by uid), make its dependents match the
 * owner's state, as kube-controller-manager's garbagecollector does.
 *
 * - Owner absent (deleted, or its name now holds another uid): delete each dependent that has no
 *   other live owner (with the dependent's own propagation policy); drop the dangling reference
 *   from a dependent that still has one. Background cascade follows: the dependents' deletes are
 *   changes that bring their own dependents here.
 * - Owner deleting with `orphan`: remove the owner's reference from every dependent, then the
 *   finalizer.
 * - Owner deleting with `foregroundDeletion`: delete every dependent (in the foreground too, so
 *   the whole tree goes before the owner); once no dependent with `blockOwnerDeletion` is left,
 *   remove the finalizer. The API server then deletes the owner.
 *
 * Dependents are found through the OwnerIndex (owners.ts: owner uid → dependents, fed by every
 * change and by the resync), each read again through the API before it is acted on — never by
 * listing every kind of the namespace per owner, which made one scale-down livelock the cluster
 * (issue 15).
 */
import type { ResourceType } from '../../api/resources.js';
import { ApiError } from '../../api/status.js';
import { metadataOf, readMetadata, type KubeObject } from '../../api/objects.js';
import type { ApiClient, DeleteOptions } from '../client.js';
import { resourceFor } from '../client.js';
import type { ControllerContext } from '../controller.js';
import type { ReconcileOutcome } from '../queue.js';
import { ignoreNotFound, updateWithRetry } from '../update.js';
import { FOREGROUND, identityOfRef, ORPHAN, ownerReferencesOf, parseOwnerKey, type OwnerIdentity } from './keys.js';
import type { OwnerIndex } from './owners.js';
import { CALL_CHUNK, yieldToEventLoop } from '../batch.js';

/** Dependent is an object that references the owner, with that reference. */
interface Dependent {
  resource: ResourceType;
  object: KubeObject;
  ref: Record<string, unknown>;
}

/** How often a foreground deletion that waits on dependents looks again even without a change. */
const FOREGROUND_RECHECK_MS = 10_000;

/** reconcileOwner is the garbage collector's reconcile for one owner key (see the file comment). */
export async function reconcileOwner(key: string, ctx: ControllerContext, index: OwnerIndex): Promise<ReconcileOutcome | void> {
  const owner = parseOwnerKey(key);
  if (!owner) return;
  const resource = resourceFor(owner.apiVersion, owner.kind);
  const live = await ctx.client.getOrUndefined(resource, { namespace: owner.namespace, name: owner.name });
  const meta = live && readMetadata(live).uid === owner.uid ? readMetadata(live) : undefined;
  if (meta && meta.deletionTimestamp === undefined) return;
  // Until the resync has filled the index it may miss dependents: come back rather than guess.
  if (!index.synced) return { requeueAfterMs: NOT_SYNCED_RETRY_MS };
  if (!meta) return collectDependentsOfAbsentOwner(ctx.client, owner, index);
  const finalizers = meta.finalizers ?? [];
  if (finalizers.includes(ORPHAN)) return orphanDependents(ctx.client, resource, owner, index);
  if (finalizers.includes(FOREGROUND)) return deleteDependentsInForeground(ctx.client, resource, owner, index);
}

/** LOOKUP_BATCH bounds how many dependents are read at once (a batch per turn of the event loop). */
const LOOKUP_BATCH = CALL_CHUNK;

/** NOT_SYNCED_RETRY_MS is how soon a reconcile that came before the index was filled looks again. */
const NOT_SYNCED_RETRY_MS = 1_000;

/**
 * listDependents reads the objects `index` names as dependents of `owner` and keeps those that
 * still reference its uid (the index only says where to look; see owners.ts).
 */
export async function listDependents(client: ApiClient, owner: OwnerIdentity, index: OwnerIndex): Promise<Dependent[]> {
  const candidates = index.dependentsOf(owner.uid);
  const dependents: Dependent[] = [];
  for (let i = 0; i < candidates.length; i += LOOKUP_BATCH) {
    if (i > 0) await yieldToEventLoop();
    const batch = candidates.slice(i, i + LOOKUP_BATCH);
    const read = await Promise.all(batch.map((c) => client.getOrUndefined(c.resource, { namespace: c.namespace, name: c.name })));
    read.forEach((object, k) => {
      if (!object || readMetadata(object).uid !== batch[k]!.uid) return;
      const ref = ownerReferencesOf(object).find((r) => r.uid === owner.uid);
      if (ref) dependents.push({ resource: batch[k]!.resource, object, ref });
    });
  }
  return dependents;
}

function nameOf(obj: KubeObject): { namespace?: string; name: string } {
  const meta = readMetadata(obj);
  return { namespace: meta.namespace, name: String(meta.name) };
}

/** ownPropagation is how a dependent is deleted on its own account: by the finalizers it already carries. */
function ownPropagation(obj: KubeObject): DeleteOptions['propagationPolicy'] {
  const finalizers = readMetadata(obj).finalizers ?? [];
  if (finalizers.includes(ORPHAN)) return 'Orphan';
  if (finalizers.includes(FOREGROUND)) return 'Foreground';
  return 'Background';
}

/** deleteDependent deletes one dependent (exactly that uid); already gone or replaced is fine. */
async function deleteDependent(client: ApiClient, d: Dependent, propagationPolicy: DeleteOptions['propagationPolicy']): Promise<void> {
  try {
    await client.delete(d.resource, nameOf(d.object), { propagationPolicy, preconditions: { uid: readMetadata(d.object).uid } });
  } catch (err) {
    // 404: gone already; 409: the name now holds another object (the precondition failed).
    if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
    throw err;
  }
}

/** removeOwnerReference drops the reference to `uid` from a dependent (re-read on conflict). */
async function removeOwnerReference(client: ApiClient, d: Dependent, uid: string): Promise<void> {
  await updateWithRetry(client, d.resource, nameOf(d.object), (obj) => {
    const meta = metadataOf(obj);
    if (meta.uid !== readMetadata(d.object).uid) return false;
    const refs = meta.ownerReferences ?? [];
    const kept = refs.filter((r) => r.uid !== uid);
    if (kept.length === refs.length) return false;
    if (kept.length === 0) delete meta.ownerReferences;
    else meta.ownerReferences = kept;
    return true;
  });
}

/** removeFinalizer removes `finalizer` from the owner (re-read on conflict; gone is fine). */
async function removeFinalizer(client: ApiClient, resource: ResourceType, owner: OwnerIdentity, finalizer: string): Promise<void> {
  await updateWithRetry(client, resource, { namespace: owner.namespace, name: owner.name }, (obj) => {
    const meta = metadataOf(obj);
    if (meta.uid !== owner.uid || !(meta.finalizers ?? []).includes(finalizer)) return false;
    meta.finalizers = (meta.finalizers ?? []).filter((f) => f !== finalizer);
    return true;
  });
}

/** hasLiveOwnerOtherThan tells whether a dependent has another owner that still exists (by uid). */
async function hasLiveOwnerOtherThan(client: ApiClient, obj: KubeObject, uid: string): Promise<boolean> {
  for (const ref of ownerReferencesOf(obj)) {
    if (ref.uid === uid) continue;
    const id = identityOfRef(ref, readMetadata(obj).namespace);
    if (!id) return true; // an owner of a kind this server does not serve: not ours to judge
    const other = await ignoreNotFound(client.get(resourceFor(id.apiVersion, id.kind), { namespace: id.namespace, name: id.name }));
    if (other && readMetadata(other).uid === id.uid) return true;
  }
  return false;
}

async function collectDependentsOfAbsentOwner(client: ApiClient, owner: OwnerIdentity, index: OwnerIndex): Promise<void> {
  for (const d of await listDependents(client, owner, index)) {
    if (readMetadata(d.object).deletionTimestamp !== undefined) continue;
    if (await hasLiveOwnerOtherThan(client, d.object, owner.uid)) await removeOwnerReference(client, d, owner.uid);
    else await deleteDependent(client, d, ownPropagation(d.object));
  }
}

async function orphanDependents(client: ApiClient, resource: ResourceType, owner: OwnerIdentity, index: OwnerIndex): Promise<void> {
  for (const d of await listDependents(client, owner, index)) await removeOwnerReference(client, d, owner.uid);
  await removeFinalizer(client, resource, owner, ORPHAN);
}

async function deleteDependentsInForeground(client: ApiClient, resource: ResourceType, owner: OwnerIdentity, index: OwnerIndex): Promise<ReconcileOutcome | void> {
  const dependents = await listDependents(client, owner, index);
  for (const d of dependents) {
    if (readMetadata(d.object).deletionTimestamp === undefined) await deleteDependent(client, d, 'Foreground');
  }
  const blocking = dependents.filter((d) => d.ref.blockOwnerDeletion === true);
  if (blocking.length > 0) {
    // Still there after the deletes above? Look again: most go at once, some wait on finalizers.
    const still = await Promise.all(blocking.map((d) => ignoreNotFound(client.get(d.resource, nameOf(d.object)))));
    const waiting = still.filter((obj, i) => obj && readMetadata(obj).uid === readMetadata(blocking[i]!.object).uid
      && ownerReferencesOf(obj).some((r) => r.uid === owner.uid && r.blockOwnerDeletion === true));
    // Their deletes are changes that bring this owner back here; the recheck is a safety net.
    if (waiting.length > 0) return { requeueAfterMs: FOREGROUND_RECHECK_MS };
  }
  await removeFinalizer(client, resource, owner, FOREGROUND);
}

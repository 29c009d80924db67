/**
 * Server-side apply and managedFields tracking, after Kubernetes' field manager
 * (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager and sigs.k8s.io/structured-merge-diff
 * merge/update.go): every manager owns a set of fields, recorded in `metadata.managedFields` in the
 * FieldsV1 encoding; an applier owns exactly what it applies, loses to nobody unless forced, and
 * leaves behind (prunes) what it applied before and no longer applies unless someone else owns it.
 */
import { ApiError, badRequest, type StatusCause } from '../status.js';
import { assertNoForbiddenKeys } from './errors.js';
import { FieldSet, compareObjects, deepEqual, pathString, toFieldSet } from './fieldset.js';
import { patchMetaFor, type PatchMeta } from './meta.js';
import { mergeApplied, removeFields } from './ssa-merge.js';

type JsonObject = Record<string, unknown>;

/** ManagerEntry is one decoded `metadata.managedFields` entry. */
interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
}

type Managers = Map<string, ManagerEntry>;

/**
 * STRIPPED_FIELDS are never tracked in managedFields (Kubernetes' stripMetaManager): apiVersion,
 * kind, metadata itself, and metadata's name, namespace, creationTimestamp, selfLink, uid,
 * clusterName, generation, managedFields and resourceVersion.
 */
const STRIPPED_FIELDS = FieldSet.of([
  ['f:apiVersion'], ['f:kind'], ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion']
    .map((f) => ['f:metadata', `f:${f}`]),
]);

/** BEFORE_FIRST_APPLY owns the fields of an object that had no managedFields when it was first applied. */
const BEFORE_FIRST_APPLY = 'before-first-apply';

// The manager identity Kubernetes keys entries by (BuildManagerIdentifier): appliers share one entry
// across API versions; updaters have one per version.
function identity(e: Pick<ManagerEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([e.manager, e.operation, e.operation === 'Update' ? e.apiVersion : '', e.subresource ?? '']);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function metadataOf(obj: JsonObject | undefined): JsonObject {
  return isObject(obj?.metadata) ? obj.metadata : {};
}

function decodeManagers(obj: JsonObject | undefined): Managers {
  const managers: Managers = new Map();
  const entries = metadataOf(obj).managedFields;
  if (!Array.isArray(entries)) return managers;
  for (const raw of entries) {
    if (!isObject(raw) || typeof raw.manager !== 'string') continue;
    const entry: ManagerEntry = {
      manager: raw.manager,
      operation: raw.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: typeof raw.apiVersion === 'string' ? raw.apiVersion : '',
      ...(typeof raw.time === 'string' ? { time: raw.time } : {}),
      ...(typeof raw.subresource === 'string' && raw.subresource ? { subresource: raw.subresource } : {}),
      set: FieldSet.fromFieldsV1(raw.fieldsV1),
    };
    managers.set(identity(entry), entry);
  }
  return managers;
}

const seconds = (time: string | undefined): number => (time ? Math.floor(Date.parse(time) / 1000) || 0 : 0);
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** encodeManagers renders the entries in Kubernetes' order: operation, time, manager, apiVersion, subresource. */
function encodeManagers(managers: Managers): JsonObject[] {
  const entries = [...managers.values()].filter((e) => !e.set.empty);
  entries.sort((p, q) => cmp(p.operation, q.operation) || seconds(p.time) - seconds(q.time) ||
    cmp(p.manager, q.manager) || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource ?? '', q.subresource ?? ''));
  return entries.map((e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    ...(e.time ? { time: e.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: e.set.toFieldsV1(),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  }));
}

function withoutManagedFields(obj: JsonObject): JsonObject {
  const copy = structuredClone(obj);
  if (isObject(copy.metadata)) delete copy.metadata.managedFields;
  return copy;
}

/**
 * stripManagedFields is `obj` without metadata.managedFields, copying only the top level and
 * metadata: for trackManagedFields, which reads the rest and never writes it (no deep clone of
 * every object on every write).
 */
function stripManagedFields(obj: JsonObject): JsonObject {
  if (!isObject(obj.metadata)) return { ...obj };
  const metadata = { ...obj.metadata };
  delete metadata.managedFields;
  return { ...obj, metadata };
}

function withManagedFields(obj: JsonObject, managers: Managers): JsonObject {
  const managedFields = encodeManagers(managers);
  const metadata: JsonObject = { ...metadataOf(obj) };
  delete metadata.managedFields;
  return { ...obj, metadata: managedFields.length > 0 ? { ...metadata, managedFields } : metadata };
}

/**
 * emptyLike stands in for the empty typed object Kubernetes compares a created object against: its
 * top-level structs exist (empty), so they are not recorded as added by themselves.
 */
function emptyLike(obj: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => isObject(v)).map(([k]) => [k, {}]));
}

/** printManager renders a manager as Kubernetes' conflict messages do. */
function printManager(e: ManagerEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  return e.operation === 'Update' ? `${s} using ${e.apiVersion}` : s;
}

function conflictError(conflicts: Array<{ entry: ManagerEntry; paths: string[][] }>): ApiError {
  const sorted = [...conflicts].sort((a, b) => cmp(identity(a.entry), identity(b.entry)));
  const causes: StatusCause[] = sorted.flatMap(({ entry, paths }) =>
    paths.map((p) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(entry)}`, field: pathString(p) })));
  let message: string;
  if (causes.length === 1) {
    message = `Apply failed with 1 conflict: ${causes[0]!.message}: ${causes[0]!.field}`;
  } else {
    const lines = sorted.flatMap(({ entry, paths }) => [`conflicts with ${printManager(entry)}:`, ...paths.map((p) => `- ${pathString(p)}`)]);
    message = `Apply failed with ${causes.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

/**
 * takeChanges records, as structured-merge-diff's update does, that `self` changed `live` into
 * `next`: every other manager loses the fields that were removed, and the fields that were added or
 * modified (which, without `force`, are conflicts instead). Returns the changed fields.
 */
function takeChanges(live: JsonObject, next: JsonObject, managers: Managers, selfId: string, meta: PatchMeta | undefined, force: boolean): FieldSet {
  const diff = compareObjects(live, next, meta);
  const changed = diff.added.union(diff.modified).difference(STRIPPED_FIELDS);
  const removed = diff.removed.difference(STRIPPED_FIELDS);
  const conflicts: Array<{ entry: ManagerEntry; paths: string[][] }> = [];
  for (const [id, entry] of managers) {
    if (id === selfId) continue;
    const overlap = entry.set.intersection(changed);
    if (!overlap.empty) conflicts.push({ entry, paths: overlap.paths() });
  }
  if (!force && conflicts.length > 0) throw conflictError(conflicts);
  for (const [id, entry] of managers) {
    if (id === selfId) continue;
    entry.set = entry.set.difference(changed).difference(removed);
    if (entry.set.empty) managers.delete(id);
  }
  return changed;
}

/** prune removes what the applier owned last time, no longer applies, and nobody else owns. */
function prune(merged: JsonObject, managers: Managers, lastSet: FieldSet | undefined, meta: PatchMeta | undefined): JsonObject {
  if (!lastSet || lastSet.empty) return merged;
  let owned = new FieldSet();
  for (const entry of managers.values()) owned = owned.union(entry.set);
  const toRemove = lastSet.withNamedFields().difference(owned.withNamedFields());
  return toRemove.empty ? merged : removeFields(merged, toRemove, meta);
}

/** ApplyOptions are the request's field manager, `force` flag and clock (RFC 3339, seconds). */
export interface ApplyOptions {
  manager: string;
  force: boolean;
  now: string;
}

/**
 * serverSideApply merges the applied configuration `applied` into `current` (undefined: the object
 * is being created) as Kubernetes' server-side apply does, and returns the new object with
 * `metadata.managedFields` updated; `current` is not mutated. The manager owns exactly the fields it
 * applied (entry `operation: Apply`); fields it applied before and no longer applies are removed
 * unless another manager owns them; list-maps merge by key, sets by value, atomic lists are replaced.
 * Throws ApiError 409 Conflict (causes `FieldManagerConflict`, as Kubernetes words them) when another
 * manager owns a field the configuration changes and `force` is false; with `force`, ownership moves.
 * 400 when the configuration carries managedFields or names `__proto__`/`constructor`/`prototype`.
 * The entry's time changes only when the object changes (or the entry is new), as in Kubernetes.
 */
export function serverSideApply(current: JsonObject | undefined, applied: JsonObject, options: ApplyOptions): JsonObject {
  assertNoForbiddenKeys(applied);
  const appliedManaged = metadataOf(applied).managedFields;
  if (appliedManaged !== undefined && appliedManaged !== null && !(Array.isArray(appliedManaged) && appliedManaged.length === 0)) {
    throw badRequest('metadata.managedFields must be nil');
  }
  const apiVersion = String(applied.apiVersion ?? current?.apiVersion ?? '');
  const meta = patchMetaFor(apiVersion, String(applied.kind ?? current?.kind ?? ''));
  const live = withoutManagedFields(current ?? {});
  const managers = decodeManagers(current);
  if (current && managers.size === 0) {
    const before: ManagerEntry = { manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion, time: options.now,
      set: toFieldSet(live, meta).difference(STRIPPED_FIELDS) };
    if (!before.set.empty) managers.set(identity(before), before);
  }
  const config = withoutManagedFields(applied);
  const selfId = identity({ manager: options.manager, operation: 'Apply', apiVersion, subresource: undefined });
  const last = managers.get(selfId);
  // The applier's set keeps metadata.name and the like while pruning, so that metadata itself stays owned.
  const self: ManagerEntry = { manager: options.manager, operation: 'Apply', apiVersion, set: toFieldSet(config, meta) };
  if (last?.time) self.time = last.time;
  managers.set(selfId, self);
  const merged = prune(mergeApplied(live, config, meta) as JsonObject, managers, last?.set, meta);
  takeChanges(live, merged, managers, selfId, meta, options.force);
  self.set = self.set.difference(STRIPPED_FIELDS);
  if (!last || !deepEqual(live, merged)) self.time = options.now;
  return withManagedFields(merged, managers);
}

/** TrackOptions name the writer of a create, update or patch, and the clock (RFC 3339, seconds). */
export interface TrackOptions {
  manager: string;
  operation: 'Update' | 'Apply';
  subresource?: string;
  now: string;
}

function managersForUpdate(previous: JsonObject | undefined, next: JsonObject): Managers {
  // A client that sends managedFields of its own (other than the stored ones) replaces them.
  const sent = metadataOf(next).managedFields;
  if (Array.isArray(sent) && sent.length > 0 && !deepEqual(sent, metadataOf(previous).managedFields)) return decodeManagers(next);
  return decodeManagers(previous);
}

/**
 * trackManagedFields records a create (`previous` undefined), update or patch by `manager`: the
 * manager gains ownership of the fields it added or changed (entry time set to `now`), every other
 * manager loses those fields and any field that was removed, and entries left empty disappear.
 * Returns a copy of `next` with `metadata.managedFields` updated (its top level and metadata are
 * new objects; deeper values are shared with `next`, which is not mutated). As in Kubernetes, an
 * existing object that has no managedFields at all is left untracked (returned unchanged).
 */
export function trackManagedFields(previous: JsonObject | undefined, next: JsonObject, options: TrackOptions): JsonObject {
  const managers = managersForUpdate(previous, next);
  if (previous && managers.size === 0 && !Array.isArray(metadataOf(previous).managedFields)) {
    return isObject(next.metadata) ? { ...next, metadata: { ...next.metadata } } : { ...next };
  }
  const apiVersion = String(next.apiVersion ?? previous?.apiVersion ?? '');
  const meta = patchMetaFor(apiVersion, String(next.kind ?? previous?.kind ?? ''));
  const after = stripManagedFields(next);
  const before = previous ? stripManagedFields(previous) : emptyLike(after);
  const selfEntry: ManagerEntry = { manager: options.manager, operation: options.operation, apiVersion, set: new FieldSet(),
    ...(options.subresource ? { subresource: options.subresource } : {}) };
  const selfId = identity(selfEntry);
  // Kubernetes runs the change as a separate "current-operation" manager, then folds it into the writer's entry.
  const changed = takeChanges(before, after, managers, '\u0000current-operation', meta, true);
  const kept = managers.get(selfId);
  if (!changed.empty) {
    managers.set(selfId, { ...selfEntry, set: (kept?.set ?? new FieldSet()).union(changed), time: options.now });
  }
  return withManagedFields(after, managers);
}

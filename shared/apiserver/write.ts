/**
 * The update pipeline every write of an existing object goes through (PUT, PATCH, apply, the
 * status and scale subresources, binding, delete with finalizers): subresource rules,
 * immutable metadata, defaulting, validation, generation, managedFields, the no-op check, the
 * delete-when-last-finalizer-goes rule, dry run, and the compare-and-swap.
 */
import type { ResourceType } from '../api/resources.js';
import { badRequest, conflict, invalid } from '../api/status.js';
import { applyDefaults, KINDS_WITH_GENERATION } from '../api/defaults.js';
import { assertValid } from '../api/validation.js';
import { deepEqual, isRecord, metadataOf, readMetadata, rfc3339Now, type KubeObject } from '../api/objects.js';
import { isStoreError, type KeyValue } from '../store/store.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { decode, encode } from './storage.js';
import { assertFieldManager } from './options.js';
import { decodeError } from '../api/decode.js';
import { carryAllocatedValues, releaseServiceAddresses, updateServiceAddresses } from './services.js';

/** WriteOptions say who writes and how. */
export interface WriteOptions {
  manager: string;
  operation: 'Update' | 'Apply';
  dryRun: boolean;
  /** The subresource written (`status`), if any. */
  subresource?: string;
  /** Skip managedFields tracking (server-side apply has already computed them). */
  managedFieldsDone?: boolean;
}

/** WriteResult is the object after the write, and whether the write deleted it (last finalizer removed). */
export interface WriteResult {
  object: KubeObject;
  deleted: boolean;
}

/** isDryRun reads `dryRun` (only `All` is allowed, as Kubernetes). */
export function isDryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const v of values) {
    if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  }
  return values.length > 0;
}

/** fieldManagerOf is `fieldManager` from the query, else the User-Agent's product name (Kubernetes' default). */
export function fieldManagerOf(ctx: HandlerContext): string {
  const explicit = ctx.query.get('fieldManager');
  if (explicit !== null) {
    assertFieldManager(explicit, ctx.info.verb);
    return explicit;
  }
  const agent = ctx.request.headers.get('user-agent') ?? '';
  return agent.split('/')[0].slice(0, 128) || 'unknown';
}

/** hasStatusSubresource tells whether the main resource ignores status writes. */
export function hasStatusSubresource(resource: ResourceType): boolean {
  return resource.subresources.some((s) => s.name === 'status');
}

const IMMUTABLE_META = ['creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'namespace'] as const;

/** mergeForUpdate applies subresource and metadata rules: what `desired` may change of `current`. */
export function mergeForUpdate(resource: ResourceType, current: KubeObject, desired: KubeObject, subresource?: string): KubeObject {
  if (subresource === 'status') {
    // A status write changes status only (and the managedFields the tracker sets).
    return { ...current, status: desired.status, metadata: { ...readMetadata(current), managedFields: readMetadata(desired).managedFields } };
  }
  const next: KubeObject = { ...desired, metadata: { ...readMetadata(desired) } };
  // Main-resource and scale writes keep the stored status; binding writes spec.nodeName and a condition.
  if (hasStatusSubresource(resource) && (subresource === undefined || subresource === 'scale')) {
    if (current.status === undefined) delete next.status;
    else next.status = current.status;
  }
  const meta = metadataOf(next);
  const cur = readMetadata(current);
  if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== cur.uid) {
    throw invalid(resource.group, resource.kind, String(cur.name), [{ reason: 'FieldValueInvalid', field: 'metadata.uid', message: `Invalid value: "${meta.uid}": field is immutable` }]);
  }
  meta.uid = cur.uid;
  for (const f of IMMUTABLE_META) {
    if (cur[f] === undefined) delete meta[f];
    else (meta as Record<string, unknown>)[f] = cur[f];
  }
  return next;
}

function bumpGeneration(resource: ResourceType, current: KubeObject, next: KubeObject): void {
  if (!KINDS_WITH_GENERATION.has(resource.kind)) return;
  const gen = Number(readMetadata(current).generation ?? 1);
  metadataOf(next).generation = deepEqual(current.spec, next.spec) ? gen : gen + 1;
}

/** sameIgnoringManagedFields: a write that changes nothing but managedFields timestamps is a no-op (no new revision). */
function sameIgnoringManagedFields(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...readMetadata(o), managedFields: undefined } });
  return deepEqual(strip(a), strip(b));
}

/** shouldDeleteOnUpdate: a deleted object whose last finalizer is gone (and whose grace is over) leaves the store. */
function shouldDeleteOnUpdate(obj: KubeObject): boolean {
  const meta = readMetadata(obj);
  if (meta.deletionTimestamp === undefined || (meta.finalizers ?? []).length > 0 || meta.deletionGracePeriodSeconds) return false;
  // A namespace also waits for its spec.finalizers (emptied through `namespaces/<name>/finalize`).
  const specFinalizers = obj.kind === 'Namespace' && isRecord(obj.spec) ? obj.spec.finalizers : undefined;
  return !Array.isArray(specFinalizers) || specFinalizers.length === 0;
}

/**
 * commitUpdate turns `desired` into the next version of `kv` and writes it with compare-and-swap
 * on kv.modRevision. A lost race throws StoreError Conflict (callers retry or answer 409).
 */
export async function commitUpdate(
  ctx: HandlerContext, peers: Peers, kv: KeyValue, desired: KubeObject, opts: WriteOptions,
): Promise<WriteResult> {
  const { resource } = ctx.info;
  const current = decode(kv);
  let next = mergeForUpdate(resource, current, desired, opts.subresource);
  applyDefaults(resource.kind, next);
  if (resource.kind === 'Service') carryAllocatedValues(current, next);
  assertValid(resource, next, current, opts.subresource);
  const refusal = ctx.admit ? await ctx.admit(ctx, next, current) : undefined;
  if (refusal) throw refusal;
  bumpGeneration(resource, current, next);
  if (!opts.managedFieldsDone && peers.trackManagedFields) {
    next = peers.trackManagedFields(current, next, {
      manager: opts.manager, operation: opts.operation, subresource: opts.subresource, now: rfc3339Now(ctx.now()),
    });
  }
  metadataOf(next).resourceVersion = String(kv.modRevision);
  if (sameIgnoringManagedFields(next, current)) return { object: current, deleted: false };
  if (shouldDeleteOnUpdate(next)) {
    if (!opts.dryRun) await ctx.store.delete(kv.key, kv.modRevision);
    if (!opts.dryRun && resource.kind === 'Service') await releaseServiceAddresses(ctx.store, ctx.serviceNetwork, current);
    return { object: next, deleted: true };
  }
  if (resource.kind === 'Service' && !opts.subresource) return commitServiceUpdate(ctx, kv, current, next, opts.dryRun ?? false);
  if (opts.dryRun) return { object: next, deleted: false };
  return { object: decode(await ctx.store.update(kv.key, encode(next), kv.modRevision)), deleted: false };
}

/** commitServiceUpdate writes a Service update, taking new addresses first and releasing dropped ones after. */
async function commitServiceUpdate(ctx: HandlerContext, kv: KeyValue, current: KubeObject, next: KubeObject, dryRun: boolean): Promise<WriteResult> {
  const { undo, commit } = await updateServiceAddresses(ctx.store, ctx.serviceNetwork, current, next, { dryRun });
  if (dryRun) return { object: next, deleted: false };
  try {
    const stored = decode(await ctx.store.update(kv.key, encode(next), kv.modRevision));
    await commit();
    return { object: stored, deleted: false };
  } catch (err) {
    await undo();
    throw err;
  }
}

/**
 * retryOnConflict runs a read-modify-write until it does not lose a compare-and-swap race
 * (Kubernetes' GuaranteedUpdate loop); after `attempts` losses it answers 409 Conflict.
 */
export async function retryOnConflict<T>(ctx: HandlerContext, attempt: () => Promise<T>, attempts = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isStoreError(err, 'Conflict')) throw err;
      if (i >= attempts) throw conflict(ctx.info.resource.group, ctx.info.resource.plural, ctx.info.name ?? '');
      // Past a few losses, spread the contenders out a little (jitter) instead of spinning.
      if (i > 3) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(i, 20)));
    }
  }
}

/**
 * assertApiVersionKind checks a POST/PUT body's apiVersion/kind against what the URL serves,
 * filling them when absent — as kube-apiserver does since kubernetes#10200: its decoder defaults
 * a missing kind and apiVersion from the endpoint (gvkWithDefaults). A different apiVersion is
 * 400 with upstream's message; a different kind is 400 as the decoder's conversion failure reads.
 */
export function assertApiVersionKind(body: KubeObject, apiVersion: string, kind: string): void {
  if (body.apiVersion === undefined || body.apiVersion === '') body.apiVersion = apiVersion;
  if (body.kind === undefined || body.kind === '') body.kind = kind;
  if (typeof body.apiVersion !== 'string' || typeof body.kind !== 'string') {
    throw badRequest(`the object provided is unrecognized (must be of type ${kind}): couldn't get version/kind; json parse error: apiVersion and kind must be strings`);
  }
  if (body.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersion})`);
  }
  if (body.kind !== kind) {
    const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
    throw badRequest(`${body.kind} in version "${version}" cannot be handled as a ${kind}: no kind "${body.kind}" is registered for the endpoint of ${kind}`);
  }
}

/**
 * assertDecodes refuses a POST/PUT/apply body the Go decoder could not read into the kind's types
 * (400, `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal
 * number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32`).
 */
export function assertDecodes(body: KubeObject, apiVersion: string, kind: string): void {
  const err = decodeError(apiVersion, kind, body);
  if (err === undefined) return;
  const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
  throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${err}`);
}

/**
 * checkPatchedObject refuses a patch result that is no longer the object at the URL: not an
 * object, or with another kind or apiVersion (422, as kube-apiserver answers when the patched
 * document does not decode into the stored type — a ConfigMap patched to `kind: Pod` must not
 * be stored as one, or when a field no longer decodes: `replicas: 1.5`), or with another name
 * (400, upstream's checkName; `{"metadata":null}`).
 */
export function checkPatchedObject(patched: unknown, info: { resource: ResourceType; name?: string }, apiVersion: string): KubeObject {
  const { resource } = info;
  const name = info.name ?? '';
  if (!isRecord(patched)) {
    throw invalid(resource.group, resource.kind, name, [{ reason: 'FieldValueInvalid', field: 'patch', message: `Invalid value: ${JSON.stringify(patched) ?? 'null'}: the patched document must be a JSON object` }]);
  }
  for (const [field, expected] of [['apiVersion', apiVersion], ['kind', resource.kind]] as const) {
    const actual = patched[field];
    if (actual === expected) continue;
    const message = actual === undefined || actual === null || actual === ''
      ? `Required value: Object '${field === 'kind' ? 'Kind' : 'apiVersion'}' is missing in the patched object`
      : `Invalid value: ${JSON.stringify(actual)}: field is immutable`;
    throw invalid(resource.group, resource.kind, name, [{ reason: actual === undefined ? 'FieldValueRequired' : 'FieldValueInvalid', field, message }]);
  }
  const err = decodeError(apiVersion, resource.kind, patched);
  if (err !== undefined) throw invalid(resource.group, resource.kind, name, [{ reason: 'FieldValueInvalid', field: 'patch', message: `Invalid value: "<patched ${resource.kind}>": ${err}` }]);
  const metaName = isRecord(patched.metadata) ? patched.metadata.name : undefined;
  if (metaName !== name) {
    throw badRequest(`the name of the object (${typeof metaName === 'string' ? metaName : ''}) does not match the name on the URL (${name})`);
  }
  return patched;
}

/** asObject refuses a body that is not a JSON object (400). */
export function asObject(value: unknown): KubeObject {
  if (!isRecord(value)) throw badRequest('the body of the request must be a JSON object');
  return value;
}

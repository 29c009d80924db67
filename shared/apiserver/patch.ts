/**
 * patch (PATCH): JSON patch, merge patch, strategic merge patch, and server-side apply
 * (`application/apply-patch+yaml`), as a read-modify-write retried on lost races. Apply creates
 * the object when it is missing. The patch algorithms live in shared/api/patch (another module);
 * this file wires them to the store.
 */
import { groupVersion } from '../api/resources.js';
import { ApiError, badRequest, conflict, unsupportedMediaType } from '../api/status.js';
import { metadataOf, readMetadata, rfc3339Now, type KubeObject } from '../api/objects.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { mediaType, readBody } from './body.js';
import { checkFields, parseFieldValidation, warningHeaders, type FieldValidation } from './fieldvalidation.js';
import { asObject, assertApiVersionKind, assertDecodes, checkPatchedObject, commitUpdate, fieldManagerOf, isDryRun, retryOnConflict } from './write.js';
import { decode, keyOf, loadObject } from './storage.js';
import { jsonResponse } from './respond.js';
import { createObject, prepareForCreate } from './create.js';
import { checkNameMatches } from './update.js';
import { patchScale } from './scale.js';
import { assertFieldManager, parseBoolParam } from './options.js';

const PATCH_TYPES: Record<string, 'json' | 'merge' | 'strategic' | 'apply'> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** PatchType is a patch flavour by its content type. */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** patchTypeOf maps the Content-Type to a patch type, or 415 UnsupportedMediaType. */
export function patchTypeOf(request: Request): PatchType {
  const type = mediaType(request);
  const t = PATCH_TYPES[type];
  if (!t) throw unsupportedMediaType(type, Object.keys(PATCH_TYPES));
  return t;
}

function unavailable(what: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `${what} is not available on this server yet`);
}

/** handlePatch answers PATCH on a named object or subresource. */
export async function handlePatch(ctx: HandlerContext, peers: Peers): Promise<Response> {
  const type = patchTypeOf(ctx.request);
  const mode = parseFieldValidation(ctx.query);
  const dryRun = isDryRun(ctx.query);
  if (type !== 'apply' && ctx.query.has('force')) throw badRequest('force: Forbidden: may not be specified for non-apply patch');
  const force = parseBoolParam(ctx.query, 'force');
  const body = await readBody(ctx.request);
  if (type === 'apply') return apply(ctx, peers, asObject(body.value), { mode, dryRun, force }, body.duplicates);
  if (!peers.applyPatch) throw unavailable(`${type} patch`);
  const applyPatch = peers.applyPatch;
  const { info } = ctx;
  const manager = fieldManagerOf(ctx);
  const apiVersion = groupVersion(info.resource);
  let warnings: string[] = [];
  const result = await retryOnConflict(ctx, async () => {
    const kv = await loadObject(ctx);
    if (info.subresource === 'scale') return { object: await patchScale(ctx, peers, kv, type, body.value, dryRun), deleted: false };
    const current = decode(kv);
    const patched = checkPatchedObject(applyPatch(type, current, body.value, { apiVersion, kind: info.resource.kind }), info, apiVersion);
    const rv = readMetadata(patched).resourceVersion;
    if (rv !== undefined && rv !== readMetadata(current).resourceVersion) throw conflict(info.resource.group, info.resource.plural, info.name!);
    warnings = checkFields(mode, peers, patched, body.duplicates);
    checkNameMatches(patched, info.name!);
    return commitUpdate(ctx, peers, kv, patched, { manager, operation: 'Update', dryRun, subresource: info.subresource });
  });
  return jsonResponse(result.object, 200, warningHeaders(warnings));
}

async function apply(
  ctx: HandlerContext, peers: Peers, applied: KubeObject, options: { mode: FieldValidation; dryRun: boolean; force: boolean }, duplicates: string[],
): Promise<Response> {
  const { info } = ctx;
  const { mode, dryRun, force } = options;
  const manager = ctx.query.get('fieldManager');
  if (!manager) throw new ApiError(400, 'BadRequest', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  assertFieldManager(manager, 'patch');
  if (!peers.serverSideApply) throw unavailable('server-side apply');
  const serverSideApply = peers.serverSideApply;
  assertApiVersionKind(applied, groupVersion(info.resource), info.resource.kind);
  assertDecodes(applied, groupVersion(info.resource), info.resource.kind);
  const warnings = checkFields(mode, peers, applied, duplicates);
  metadataOf(applied);
  checkNameMatches(applied, info.name!);
  const now = rfc3339Now(ctx.now());
  let created = false;
  const result = await retryOnConflict(ctx, async () => {
    const kv = await ctx.store.get(keyOf(info.resource, info.namespace, info.name!));
    if (!kv) {
      if (info.subresource) throw new ApiError(404, 'NotFound', `${info.resource.plural} "${info.name}" not found`, { name: info.name, kind: info.resource.plural });
      const obj = serverSideApply(undefined, structuredClone(applied), { manager, force, now });
      const managedFields = readMetadata(obj).managedFields;
      prepareForCreate(ctx, obj);
      if (managedFields) metadataOf(obj).managedFields = managedFields;
      created = true;
      return { object: await createObject(ctx, peers, obj, dryRun, { trackManagedFields: false }), deleted: false };
    }
    const current = decode(kv);
    const merged = serverSideApply(current, structuredClone(applied), { manager, force, now });
    return commitUpdate(ctx, peers, kv, merged, { manager, operation: 'Apply', dryRun, subresource: info.subresource, managedFieldsDone: true });
  });
  return jsonResponse(result.object, created ? 201 : 200, warningHeaders(warnings));
}

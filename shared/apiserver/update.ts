/**
 * update (PUT): replace an object (or its status, scale, or a namespace's finalizers). A stale
 * metadata.resourceVersion is 409 Conflict; an omitted one is an unconditional update, retried
 * on lost races as Kubernetes does.
 */
import { groupVersion } from '../api/resources.js';
import { badRequest, conflict } from '../api/status.js';
import { readMetadata, type KubeObject } from '../api/objects.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { readBody } from './body.js';
import { checkFields, parseFieldValidation, warningHeaders } from './fieldvalidation.js';
import { asObject, assertApiVersionKind, assertDecodes, commitUpdate, fieldManagerOf, isDryRun, retryOnConflict } from './write.js';
import { loadObject, parseResourceVersion } from './storage.js';
import { jsonResponse } from './respond.js';
import { updateScale } from './scale.js';

/** checkNameMatches refuses a body whose name differs from the URL's (400, as Kubernetes). */
export function checkNameMatches(obj: KubeObject, urlName: string): void {
  const name = readMetadata(obj).name;
  if (name !== undefined && name !== '' && name !== urlName) {
    throw badRequest(`the name of the object (${name}) does not match the name on the URL (${urlName})`);
  }
  (obj.metadata as Record<string, unknown>).name = urlName;
}

/** handleUpdate answers PUT on a named object or subresource. */
export async function handleUpdate(ctx: HandlerContext, peers: Peers): Promise<Response> {
  const { info } = ctx;
  const mode = parseFieldValidation(ctx.query);
  const dryRun = isDryRun(ctx.query);
  const body = await readBody(ctx.request);
  const obj = asObject(body.value);
  if (info.subresource === 'scale') return updateScale(ctx, peers, obj, dryRun);
  assertApiVersionKind(obj, groupVersion(info.resource), info.resource.kind);
  assertDecodes(obj, groupVersion(info.resource), info.resource.kind);
  const warnings = checkFields(mode, peers, obj, body.duplicates);
  if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
  checkNameMatches(obj, info.name!);
  const rv = readMetadata(obj).resourceVersion;
  const expected = rv === undefined || rv === '' ? undefined : parseResourceVersion(String(rv));
  const manager = fieldManagerOf(ctx);
  // `finalize` writes spec.finalizers of a namespace; otherwise it is a plain update.
  const subresource = info.subresource === 'finalize' ? undefined : info.subresource;
  const attempt = async () => {
    const kv = await loadObject(ctx);
    if (expected !== undefined && expected !== kv.modRevision) throw conflict(info.resource.group, info.resource.plural, info.name!);
    const desired = info.subresource === 'finalize' ? { ...obj, status: kv.value.status } : obj;
    return commitUpdate(ctx, peers, kv, desired, { manager, operation: 'Update', dryRun, subresource });
  };
  const result = expected === undefined ? await retryOnConflict(ctx, attempt) : await attempt();
  return jsonResponse(result.object, 200, warningHeaders(warnings));
}

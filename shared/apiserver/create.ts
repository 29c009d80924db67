/**
 * create (POST on a collection): decode, check kind and namespace, fill system metadata
 * (uid, creationTimestamp, generation, generateName), default, mutate (admission), validate, admit (namespace
 * lifecycle), and store; 201 Created with the stored object.
 */
import { groupVersion } from '../api/resources.js';
import { badRequest } from '../api/status.js';
import { applyDefaults, KINDS_WITH_GENERATION, resetStatusOnCreate } from '../api/defaults.js';
import { assertValid } from '../api/validation.js';
import { metadataOf, newUid, randomNameSuffix, rfc3339Now, type KubeObject } from '../api/objects.js';
import { isStoreError } from '../store/store.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { readBody } from './body.js';
import { checkFields, parseFieldValidation, warningHeaders } from './fieldvalidation.js';
import { asObject, assertApiVersionKind, assertDecodes, fieldManagerOf, isDryRun } from './write.js';
import { decode, encode, keyOf } from './storage.js';
import { jsonResponse } from './respond.js';
import { assertNamespaceWritable } from './namespaces.js';
import { allocateServiceAddresses } from './services.js';
import { handleBinding } from './binding.js';
import { handleEviction } from './eviction.js';
import { handleUpgradePreview } from './upgradepreview.js';
import { handleReview, isReview } from '../rbac/reviews.js';
import { handleTokenRequest } from '../rbac/tokenrequest.js';
import { handleTokenReview } from '../rbac/tokenreview.js';

/** GENERATE_NAME_ATTEMPTS bounds retries when a generated name collides. */
const GENERATE_NAME_ATTEMPTS = 8;

const SYSTEM_META = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields'];

/** prepareForCreate fills system metadata, resets what clients may not set, and defaults. Mutates `obj`. */
export function prepareForCreate(ctx: HandlerContext, obj: KubeObject): void {
  const { resource, namespace } = ctx.info;
  const meta = metadataOf(obj);
  if (resource.namespaced) {
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = namespace;
  } else if (meta.namespace === '') delete meta.namespace;
  for (const f of SYSTEM_META) delete meta[f];
  meta.uid = newUid();
  meta.creationTimestamp = rfc3339Now(ctx.now());
  if (KINDS_WITH_GENERATION.has(resource.kind)) meta.generation = 1;
  if (resetStatusOnCreate(resource.kind)) delete obj.status;
  applyDefaults(resource.kind, obj);
}

/** createObject stores a prepared object, retrying generated names on collision; returns the stored object. */
export async function createObject(
  ctx: HandlerContext, peers: Peers, obj: KubeObject, dryRun: boolean, options: { trackManagedFields?: boolean } = {},
): Promise<KubeObject> {
  const { resource, namespace } = ctx.info;
  if (peers.trackManagedFields && options.trackManagedFields !== false) {
    obj = peers.trackManagedFields(undefined, obj, { manager: fieldManagerOf(ctx), operation: 'Update', now: rfc3339Now(ctx.now()) });
  }
  const meta = metadataOf(obj);
  const generate = !meta.name && typeof meta.generateName === 'string' && meta.generateName !== '';
  for (let attempt = 1; ; attempt++) {
    if (generate) meta.name = `${meta.generateName}${randomNameSuffix()}`;
    await ctx.mutate?.(ctx, obj);
    assertValid(resource, obj);
    const name = String(meta.name);
    if (resource.namespaced) await assertNamespaceWritable(ctx.store, namespace!, resource.group, resource.plural, name);
    const refusal = ctx.admit ? await ctx.admit(ctx, obj, undefined) : undefined;
    if (refusal) throw refusal;
    const undo = resource.kind === 'Service' ? await allocateServiceAddresses(ctx.store, ctx.serviceNetwork, obj, { dryRun }) : undefined;
    if (dryRun) return { ...obj, metadata: { ...meta } };
    try {
      return decode(await ctx.store.create(keyOf(resource, namespace, name), encode(obj)));
    } catch (err) {
      await undo?.();
      if (!(generate && isStoreError(err, 'AlreadyExists') && attempt < GENERATE_NAME_ATTEMPTS)) {
        if (isStoreError(err)) ctx.info.name = name;
        throw err;
      }
    }
  }
}

/** handleCreate answers POST on a collection, or on the binding/eviction subresources. */
export async function handleCreate(ctx: HandlerContext, peers: Peers): Promise<Response> {
  if (ctx.info.subresource === 'binding') return handleBinding(ctx, peers);
  if (ctx.info.subresource === 'eviction') return handleEviction(ctx, peers);
  if (ctx.info.resource.kind === 'UpgradePreview') return handleUpgradePreview(ctx);
  if (isReview(ctx.info.resource.kind)) return handleReview(ctx);
  if (ctx.info.subresource === 'token') return handleTokenRequest(ctx);
  if (ctx.info.resource.kind === 'TokenReview') return handleTokenReview(ctx);
  const { resource } = ctx.info;
  const mode = parseFieldValidation(ctx.query);
  const dryRun = isDryRun(ctx.query);
  const body = await readBody(ctx.request);
  const obj = asObject(body.value);
  assertApiVersionKind(obj, groupVersion(resource), resource.kind);
  assertDecodes(obj, groupVersion(resource), resource.kind);
  const warnings = checkFields(mode, peers, obj, body.duplicates);
  prepareForCreate(ctx, obj);
  const created = await createObject(ctx, peers, obj, dryRun);
  return jsonResponse(created, 201, warningHeaders(warnings));
}

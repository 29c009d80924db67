/**
 * pods/eviction: a policy/v1 Eviction deletes the pod gracefully, unless admission (the
 * PodDisruptionBudget check, shared/apiserver/disruption.ts, through `admitEviction`) refuses it.
 * Admission and delete run in one conflict-retry loop: a budget charged by a concurrent eviction,
 * or a pod changed meanwhile, makes both run again on fresh reads.
 */
import { badRequest } from '../api/status.js';
import { isRecord, readMetadata } from '../api/objects.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { readBody } from './body.js';
import { decode, loadObject } from './storage.js';
import { jsonResponse, successStatus } from './respond.js';
import { retryOnConflict, isDryRun } from './write.js';
import { deleteStored } from './delete.js';
import type { DeleteOptions, PropagationPolicy } from './deleteoptions.js';

/** handleEviction answers POST on `pods/<name>/eviction`: 201 with a Success Status once the pod is deleting. */
export async function handleEviction(ctx: HandlerContext, _peers: Peers): Promise<Response> {
  const body = (await readBody(ctx.request)).value;
  if (!isRecord(body)) throw badRequest('the body of the request must be an Eviction');
  const name = readMetadata(body).name;
  if (name && name !== ctx.info.name) throw badRequest(`name in URL does not match name in Eviction object`);
  const del = isRecord(body.deleteOptions) ? body.deleteOptions : {};
  const pre = isRecord(del.preconditions) ? del.preconditions : undefined;
  const opts: DeleteOptions = {
    gracePeriodSeconds: typeof del.gracePeriodSeconds === 'number' ? del.gracePeriodSeconds : undefined,
    propagationPolicy: del.propagationPolicy as PropagationPolicy | undefined,
    preconditions: pre ? { uid: pre.uid as string | undefined, resourceVersion: pre.resourceVersion as string | undefined } : undefined,
    dryRun: isDryRun(ctx.query) || (Array.isArray(del.dryRun) && del.dryRun.includes('All')),
  };
  await retryOnConflict(ctx, async () => {
    const kv = await loadObject(ctx);
    const refusal = ctx.admitEviction ? await ctx.admitEviction(ctx, decode(kv), { dryRun: opts.dryRun }) : undefined;
    if (refusal) throw refusal;
    return deleteStored(ctx, kv, opts);
  });
  return jsonResponse(successStatus(ctx.info, { code: 201 }), 201);
}

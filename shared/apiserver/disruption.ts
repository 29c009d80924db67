/**
 * The eviction admission of PodDisruptionBudgets (`admitEviction`, plugged into createApiServer
 * by the composition root): reads the budgets of the pod's namespace from the store, lets
 * decideEviction (shared/controllers/disruption/eviction.ts) decide, and when the eviction
 * charges a budget writes its new status with compare-and-swap on the budget's revision. A lost
 * race throws the store's Conflict, which makes the eviction handler's retry loop re-read the pod
 * and the budgets and decide again: of two concurrent evictions spending the last disruption,
 * exactly one passes.
 */
import { findResourceByKind, storageKey } from '../api/resources.js';
import type { KubeObject } from '../api/objects.js';
import { readMetadata } from '../api/objects.js';
import { budgetCovers } from '../controllers/disruption/budget.js';
import { decideEviction } from '../controllers/disruption/eviction.js';
import type { KeyValue } from '../store/store.js';
import type { EvictionAdmission, HandlerContext } from './context.js';
import { decode, encode } from './storage.js';

const PDBS = findResourceByKind('policy/v1', 'PodDisruptionBudget')!;

async function budgetsCovering(ctx: HandlerContext, pod: Readonly<KubeObject>): Promise<Map<KubeObject, KeyValue>> {
  const namespace = readMetadata(pod).namespace;
  const covering = new Map<KubeObject, KeyValue>();
  const prefix = storageKey(PDBS, namespace, '');
  let startAfter: string | undefined;
  for (;;) {
    const page = await ctx.store.list(prefix, { limit: 500, startAfter, countRemaining: false });
    for (const kv of page.items) {
      const pdb = decode(kv);
      if (budgetCovers(pdb, pod)) covering.set(pdb, kv);
    }
    if (!page.more || page.items.length === 0) return covering;
    startAfter = page.items[page.items.length - 1]!.key;
  }
}

/** admitEvictionByBudgets is the EvictionAdmission that enforces PodDisruptionBudgets (see the file comment). */
export const admitEvictionByBudgets: EvictionAdmission = async (ctx, pod, options) => {
  const budgets = await budgetsCovering(ctx, pod);
  const verdict = decideEviction(pod, [...budgets.keys()], ctx.now(), options?.dryRun ?? false);
  if (!verdict.allowed) return verdict.error;
  if (verdict.charge) {
    const kv = budgets.get(verdict.charge.pdb as KubeObject)!;
    await ctx.store.update(kv.key, encode({ ...decode(kv), status: verdict.charge.status as unknown as Record<string, unknown> }), kv.modRevision);
  }
  return undefined;
};

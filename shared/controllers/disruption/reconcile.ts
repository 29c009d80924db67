/**
 * The disruption controller's reconcile: keeps one PodDisruptionBudget's status (see budget.ts
 * for the math). It re-reads the budget, lists its pods, reads the controllers' scale when the
 * budget needs it, and writes the status with the budget's resourceVersion — so a concurrent
 * eviction that charged the budget makes this write fail and the reconcile run again on the
 * fresh status (the disruptedPods handshake with the eviction subresource).
 */
import { findResourceByKind, groupVersion } from '../../api/resources.js';
import { formatLabelSelector } from '../../api/selectors.js';
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import type { ControllerContext } from '../controller.js';
import type { ReconcileOutcome } from '../queue.js';
import type { EventRecorder } from '../events.js';
import { budgetNeedsScale, budgetSelector, budgetStatus, failSafeStatus, InvalidBudgetError, type BudgetStatus } from './budget.js';

const PDBS = findResourceByKind('policy/v1', 'PodDisruptionBudget')!;
const PODS = findResourceByKind('v1', 'Pod')!;

/** ScaleError says the controllers' scale could not be found (the budget then fails safe). */
export class ScaleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScaleError';
  }
}

type OwnerRef = Record<string, unknown>;

function controllerRefOf(obj: Readonly<KubeObject>): OwnerRef | undefined {
  return (readMetadata(obj).ownerReferences ?? []).find((r) => isRecord(r) && r.controller === true);
}

/** replicasOf reads the controller `ref` (in `namespace`); a ReplicaSet run by a Deployment answers the Deployment's replicas. */
async function replicasOf(ctx: ControllerContext, namespace: string, ref: OwnerRef): Promise<{ uid: string; replicas: number }> {
  const resource = findResourceByKind(String(ref.apiVersion), String(ref.kind));
  if (!resource) throw new ScaleError(`found no controllers for ${String(ref.kind)} "${String(ref.name)}": ${String(ref.apiVersion)} is not served`);
  const owner = await ctx.client.getOrUndefined(resource, { namespace, name: String(ref.name) });
  if (!owner || readMetadata(owner).uid !== ref.uid) throw new ScaleError(`found no controllers for ${resource.kind} "${String(ref.name)}"`);
  const parent = controllerRefOf(owner);
  if (resource.kind === 'ReplicaSet' && parent?.kind === 'Deployment' && parent.apiVersion === 'apps/v1') return replicasOf(ctx, namespace, parent);
  const spec = isRecord(owner.spec) ? owner.spec : {};
  if (typeof spec.replicas !== 'number') throw new ScaleError(`${resource.kind} "${String(ref.name)}" has no spec.replicas (${groupVersion(resource)})`);
  return { uid: String(readMetadata(owner).uid), replicas: spec.replicas };
}

/** expectedScale sums the replicas of the pods' controllers, each controller once (upstream's getExpectedScale). */
export async function expectedScale(ctx: ControllerContext, namespace: string, pods: readonly Readonly<KubeObject>[]): Promise<number> {
  const refs = new Map<string, OwnerRef>();
  for (const pod of pods) {
    const ref = controllerRefOf(pod);
    if (!ref) throw new ScaleError(`found no controller ref for pod "${String(readMetadata(pod).name)}"`);
    refs.set(String(ref.uid), ref);
  }
  const scales = new Map<string, number>();
  for (const ref of refs.values()) {
    const { uid, replicas } = await replicasOf(ctx, namespace, ref);
    scales.set(uid, replicas);
  }
  return [...scales.values()].reduce((a, b) => a + b, 0);
}

/** budgetPods lists the pods `pdb` selects (none for an absent selector). */
export async function budgetPods(ctx: ControllerContext, pdb: Readonly<KubeObject>): Promise<KubeObject[]> {
  const selector = budgetSelector(pdb);
  if (selector === undefined) return [];
  return ctx.client.listAll(PODS, { namespace: readMetadata(pdb).namespace, labelSelector: formatLabelSelector(selector) || undefined });
}

const sameStatus = (a: unknown, b: BudgetStatus): boolean => JSON.stringify(a ?? {}) === JSON.stringify(b);

/**
 * reconcileDisruptionBudget brings `<namespace>/<name>`'s status up to date; it asks to run
 * again when an admitted eviction would expire from disruptedPods. A budget that is gone
 * returns quietly; a lost write race throws (the queue retries).
 */
export async function reconcileDisruptionBudget(key: string, ctx: ControllerContext, recorder?: EventRecorder): Promise<ReconcileOutcome | void> {
  const slash = key.indexOf('/');
  const ref = { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
  const pdb = await ctx.client.getOrUndefined(PDBS, ref);
  if (!pdb) return;
  const pods = await budgetPods(ctx, pdb);
  let status: BudgetStatus;
  let recheckAt: number | undefined;
  try {
    const scale = budgetNeedsScale(pdb) ? await expectedScale(ctx, ref.namespace, pods) : undefined;
    ({ status, recheckAt } = budgetStatus(pdb, pods, ctx.now(), scale));
  } catch (err) {
    if (!(err instanceof ScaleError) && !(err instanceof InvalidBudgetError)) throw err;
    status = failSafeStatus(pdb, err.message, ctx.now());
    await recorder?.warning(pdb, 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${err.message}`);
  }
  if (pods.length === 0) await recorder?.normal(pdb, 'NoPods', 'No matching pods found');
  if (!sameStatus(pdb.status, status)) await ctx.client.updateStatus(PDBS, { ...pdb, status: status as unknown as Record<string, unknown> });
  if (recheckAt !== undefined) return { requeueAfterMs: Math.max(0, recheckAt - ctx.now().getTime()) + 1000 };
}

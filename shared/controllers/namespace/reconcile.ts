/**
 * The namespace controller's reconcile: a namespace being deleted (phase Terminating) is emptied,
 * its status conditions say what is left, and once nothing is left its `kubernetes` finalizer is
 * removed through the `finalize` subresource; the API server then deletes it.
 *
 * A pod bound to a node stays terminating until that node's agent confirms; when the node has no
 * agent (no Node object, or no Lease in kube-node-lease), nobody ever will, so the pod is
 * force-deleted (gracePeriodSeconds=0), as `kubectl delete --force` would.
 */
import { RESOURCES, type ResourceType } from '../../api/resources.js';
import { ApiError } from '../../api/status.js';
import { isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import { resourceFor, type ApiClient } from '../client.js';
import type { ControllerContext } from '../controller.js';
import type { ReconcileOutcome } from '../queue.js';
import { ignoreNotFound, updateWithRetry } from '../update.js';
import { deletionConditions, mergeConditions, tallyKey, type ContentTally, type NamespaceCondition } from './conditions.js';

/** KUBERNETES_FINALIZER is the spec finalizer this controller owns. */
export const KUBERNETES_FINALIZER = 'kubernetes';

/** How often a namespace that still has content looks again even without a change. */
const CONTENT_RECHECK_MS = 5_000;

const NAMESPACES = resourceFor('v1', 'Namespace');
const NODES = resourceFor('v1', 'Node');
const LEASES = resourceFor('coordination.k8s.io/v1', 'Lease');

/** NAMESPACED_CONTENT is every namespaced kind that can be listed and deleted. */
const NAMESPACED_CONTENT = RESOURCES.filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));

function specFinalizersOf(ns: KubeObject): string[] {
  const spec = isRecord(ns.spec) ? ns.spec : {};
  return Array.isArray(spec.finalizers) ? spec.finalizers.map(String) : [];
}

/** reconcileNamespace is the namespace controller's reconcile for one namespace name (see the file comment). */
export async function reconcileNamespace(name: string, ctx: ControllerContext): Promise<ReconcileOutcome | void> {
  const ns = await ctx.client.getOrUndefined(NAMESPACES, { name });
  if (!ns || readMetadata(ns).deletionTimestamp === undefined) return;
  if (!specFinalizersOf(ns).includes(KUBERNETES_FINALIZER)) return;
  const tally = await deleteContent(ctx.client, name);
  await writeConditions(ctx, name, deletionConditions(tally));
  if (tally.failures.length > 0) {
    throw new ApiError(500, 'InternalError', `namespace ${name}: ${tally.failures.join('; ')}`);
  }
  if (tally.remaining.size > 0) return { requeueAfterMs: CONTENT_RECHECK_MS };
  await updateWithRetry(ctx.client, NAMESPACES, { name }, (obj) => {
    const spec = isRecord(obj.spec) ? obj.spec : (obj.spec = {});
    const before = specFinalizersOf(obj);
    if (!before.includes(KUBERNETES_FINALIZER) || readMetadata(obj).uid !== readMetadata(ns).uid) return false;
    (spec as Record<string, unknown>).finalizers = before.filter((f) => f !== KUBERNETES_FINALIZER);
    return true;
  }, 'finalize');
}

/** writeConditions sets the namespace's deletion conditions when they changed (phase stays as it is). */
async function writeConditions(ctx: ControllerContext, name: string, conditions: NamespaceCondition[]): Promise<void> {
  await updateWithRetry(ctx.client, NAMESPACES, { name }, (obj) => {
    const status = isRecord(obj.status) ? obj.status : (obj.status = {});
    const current = Array.isArray(status.conditions) ? (status.conditions as NamespaceCondition[]) : [];
    const merged = mergeConditions(current, conditions, ctx.now());
    if (!merged) return false;
    (status as Record<string, unknown>).conditions = merged;
    return true;
  }, 'status');
}

/** AgentCheck tells, with a cache per pass, whether a node has an agent (a Node and its Lease). */
type AgentCheck = (node: string) => Promise<boolean>;

function agentCheck(client: ApiClient): AgentCheck {
  const known = new Map<string, Promise<boolean>>();
  return (node) => {
    let answer = known.get(node);
    if (!answer) {
      answer = (async () => {
        const [n, lease] = await Promise.all([
          ignoreNotFound(client.get(NODES, { name: node })),
          ignoreNotFound(client.get(LEASES, { namespace: 'kube-node-lease', name: node })),
        ]);
        return n !== undefined && lease !== undefined;
      })();
      known.set(node, answer);
    }
    return answer;
  };
}

/** deleteContent deletes what is in the namespace (one pass) and tallies what is left afterwards. */
async function deleteContent(client: ApiClient, namespace: string): Promise<ContentTally> {
  const tally: ContentTally = { remaining: new Map(), finalizers: new Map(), failures: [] };
  const hasAgent = agentCheck(client);
  for (const resource of NAMESPACED_CONTENT) {
    try {
      const items = await client.listAll(resource, { namespace });
      if (items.length === 0) continue;
      for (const obj of items) await deleteOne(client, resource, obj, hasAgent);
      // Count again: most objects leave at once, those with finalizers or grace stay.
      for (const obj of await client.listAll(resource, { namespace })) {
        const key = tallyKey(resource.group, resource.plural);
        tally.remaining.set(key, (tally.remaining.get(key) ?? 0) + 1);
        for (const f of readMetadata(obj).finalizers ?? []) tally.finalizers.set(f, (tally.finalizers.get(f) ?? 0) + 1);
      }
    } catch (err) {
      tally.failures.push(`${tallyKey(resource.group, resource.plural)}: ${(err as Error).message}`);
    }
  }
  return tally;
}

async function deleteOne(client: ApiClient, resource: ResourceType, obj: KubeObject, hasAgent: AgentCheck): Promise<void> {
  const meta = readMetadata(obj);
  const ref = { namespace: meta.namespace, name: String(meta.name) };
  const preconditions = { uid: meta.uid };
  try {
    if (meta.deletionTimestamp === undefined) {
      await client.delete(resource, ref, { propagationPolicy: 'Background', preconditions });
      if (resource.kind !== 'Pod') return;
      // A bound pod is now terminating: with no agent on its node, nobody will finish it.
    }
    const nodeName = resource.kind === 'Pod' && isRecord(obj.spec) ? obj.spec.nodeName : undefined;
    if (typeof nodeName === 'string' && nodeName !== '' && !(await hasAgent(nodeName))) {
      await client.delete(resource, ref, { gracePeriodSeconds: 0, preconditions });
    }
  } catch (err) {
    // 404: gone already; 409: the name holds another object now (it will be seen next pass).
    if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
    throw err;
  }
}

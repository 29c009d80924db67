/**
 * SchedulerCache: what a scheduling pass reads, from watch-fed informers of pods and nodes
 * instead of three lists per pass (kube-scheduler's scheduler cache). Pending pods are kept in a
 * set updated by the pod watch, so finding them costs O(pending), not O(pods).
 *
 * Assumed pods (kube-scheduler's): a pod this scheduler just bound counts on its node at once,
 * before the watch shows it bound, and is not pending any more — otherwise the next pass, reading
 * a cache a little behind the store, would place it again (the bind would only 409) or
 * overcommit its node with pods it does not see yet. An assumption ends when the watch shows
 * the pod bound or gone, or when its bind failed (`forget`).
 */
import type { KubeObject } from '../../api/objects.js';
import { findResourceByKind } from '../../api/resources.js';
import { isTerminated } from '../../scheduler/podinfo.js';
import type { ApiClient } from '../client.js';
import { objectKey, sharedInformer, type Informer } from '../informer.js';
import { isPendingPod } from './keys.js';

const PODS = findResourceByKind('v1', 'Pod')!;
const NODES = findResourceByKind('v1', 'Node')!;

/** ClusterSnapshot is what one pass decides on. */
export interface ClusterSnapshot {
  pending: Readonly<KubeObject>[];
  nodes: Readonly<KubeObject>[];
  bound: Readonly<KubeObject>[];
}

function nodeNameOf(pod: Readonly<KubeObject> | undefined): string | undefined {
  const name = (pod?.spec as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** SchedulerCache reads the cluster for passes; see the file comment. */
export class SchedulerCache {
  private readonly pending = new Map<string, Readonly<KubeObject>>();
  private readonly assumed = new Map<string, Readonly<KubeObject>>();

  constructor(
    private readonly pods: Informer,
    private readonly nodes: Informer,
  ) {
    pods.onChange((type, pod) => {
      const key = objectKey(pod);
      if (type === 'put' && isPendingPod(pod)) this.pending.set(key, pod);
      else this.pending.delete(key);
      // Confirmed (bound) or gone: the watch speaks for it now.
      if (type === 'delete' || nodeNameOf(pod)) this.assumed.delete(key);
    });
    for (const pod of pods.values()) if (isPendingPod(pod)) this.pending.set(objectKey(pod), pod);
  }

  /**
   * snapshot answers pending (not assumed) pods, nodes and bound pods incl. assumed ones, once the
   * informers have caught up with the store; undefined when they did not in time (read the API).
   */
  async snapshot(): Promise<ClusterSnapshot | undefined> {
    const [podsCurrent, nodesCurrent] = await Promise.all([this.pods.syncToCurrent(), this.nodes.syncToCurrent()]);
    if (!podsCurrent || !nodesCurrent) return undefined;
    const pending = [...this.pending].filter(([key]) => !this.assumed.has(key)).map(([, pod]) => pod);
    if (pending.length === 0) return { pending, nodes: [], bound: [] };
    const bound: Readonly<KubeObject>[] = [...this.assumed.values()];
    for (const pod of this.pods.values()) if (nodeNameOf(pod) && !isTerminated(pod)) bound.push(pod);
    return { pending, nodes: [...this.nodes.values()], bound };
  }

  /** assume counts `pod` on `nodeName` until the watch confirms the binding. */
  assume(pod: Readonly<KubeObject>, nodeName: string): void {
    this.assumed.set(objectKey(pod), { ...pod, spec: { ...(pod.spec as object), nodeName } });
  }

  /** forget drops an assumption whose binding did not happen. */
  forget(pod: Readonly<KubeObject>): void {
    this.assumed.delete(objectKey(pod));
  }

  /** assumedCount is how many bindings await confirmation (for tests and metrics). */
  get assumedCount(): number {
    return this.assumed.size;
  }
}

const caches = new WeakMap<ApiClient, Promise<SchedulerCache>>();

/** schedulerCacheFor returns the one SchedulerCache over `client`'s shared pod and node informers, once they have listed. */
export function schedulerCacheFor(client: ApiClient, onError?: (err: unknown) => void): Promise<SchedulerCache> {
  let cache = caches.get(client);
  if (!cache) {
    const pods = sharedInformer(client, PODS, onError);
    const nodes = sharedInformer(client, NODES, onError);
    cache = Promise.all([pods.synced(), nodes.synced()]).then(() => new SchedulerCache(pods, nodes));
    caches.set(client, cache);
  }
  return cache;
}

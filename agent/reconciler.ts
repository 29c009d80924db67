/**
 * Pod reconcile, level-triggered (sample-controller's syncHandler): given a pod key, read the pod
 * fresh from the API and what the runtime runs, decide (a pure function), act, and return an
 * error to ask for a retry. Duplicates and reordering are harmless because nothing in a message
 * is trusted beyond the key. A full resync lists the node's pods and the runtime's and reconciles
 * their union: at start this adopts the containers a previous agent left running and removes the
 * pods deleted while it was down.
 */
import { findResource } from '../shared/api/resources.js';
import { ApiError } from '../shared/api/status.js';
import { deepEqual } from '../shared/api/objects.js';
import type { ApiClient } from '../shared/controllers/client.js';
import type { Runtime, V1Pod } from './runtime/runtime.js';
import { podKeyOf, type StatusReporter } from './status.js';

const PODS = findResource('', 'v1', 'pods')!;

/** PodStep is one thing to do for a pod, in order. */
export type PodStep =
  | { action: 'create'; pod: Readonly<V1Pod> }
  | { action: 'update'; pod: Readonly<V1Pod> }
  /** Stop and remove the runtime's pod; `gracePeriodSeconds` undefined: the pod's own. */
  | { action: 'stop'; pod: Readonly<V1Pod>; gracePeriodSeconds?: number }
  /** Tell the API the pod is gone from the node (the final delete, gracePeriodSeconds=0, uid precondition). */
  | { action: 'confirmDelete'; pod: Readonly<V1Pod> };

const uidOf = (pod: Readonly<V1Pod> | undefined): string | undefined => pod?.metadata?.uid;
const isTerminal = (pod: Readonly<V1Pod>): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/**
 * decidePodSteps is the reconcile decision: `desired` is the pod as the API has it now (undefined:
 * gone), `actual` the pod as the runtime last took it (undefined: not running here).
 */
export function decidePodSteps(nodeName: string, desired: Readonly<V1Pod> | undefined, actual: Readonly<V1Pod> | undefined): PodStep[] {
  const mine = desired !== undefined && desired.spec?.nodeName === nodeName;
  if (!mine) return actual ? [{ action: 'stop', pod: actual }] : [];
  const steps: PodStep[] = [];
  let running = actual;
  if (actual && uidOf(actual) !== uidOf(desired)) {
    // Another pod of the same name (deleted and recreated): the old one goes first, at once.
    steps.push({ action: 'stop', pod: actual, gracePeriodSeconds: 0 });
    running = undefined;
  }
  if (desired.metadata?.deletionTimestamp) {
    const grace = desired.metadata.deletionGracePeriodSeconds;
    steps.push({ action: 'stop', pod: running ?? desired, gracePeriodSeconds: grace ?? undefined });
    steps.push({ action: 'confirmDelete', pod: desired });
    return steps;
  }
  if (!running) {
    // A finished pod whose containers are gone (e.g. the node restarted) is not started again.
    if (!isTerminal(desired)) steps.push({ action: 'create', pod: desired });
    return steps;
  }
  if (!deepEqual(running.spec, desired.spec)) steps.push({ action: 'update', pod: desired });
  return steps;
}

/** PodReconcilerOptions wire a reconciler. */
export interface PodReconcilerOptions {
  client: ApiClient;
  runtime: Runtime;
  nodeName: string;
  status: StatusReporter;
  log: (message: string) => void;
}

/**
 * PodReconciler runs decisions for one node. Calls for one pod key are serialized; different keys
 * run concurrently. `applied` remembers the (unresolved) pod last handed to the runtime per key,
 * so a change that is only status (the agent's own writes) costs one GET and nothing else.
 */
export class PodReconciler {
  private readonly applied = new Map<string, Readonly<V1Pod>>();
  private readonly locks = new Map<string, Promise<void>>();

  constructor(private readonly o: PodReconcilerOptions) {}

  /** reconcile brings the pod `namespace/name` to what the API says now; throws to ask for a retry. */
  reconcile(namespace: string, name: string, fetched?: Readonly<V1Pod> | null): Promise<void> {
    const key = `${namespace}/${name}`;
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.sync(namespace, name, fetched));
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return run;
  }

  /**
   * resync reconciles every pod bound to the node and every pod the runtime has. A runtime pod
   * missing from the list is read again by name before it is stopped: it may have been created
   * after the list was taken.
   */
  async resync(): Promise<{ pods: number; errors: number }> {
    const listed = (await this.o.client.listAll(PODS, { fieldSelector: `spec.nodeName=${this.o.nodeName}` })) as unknown as V1Pod[];
    const running = await this.o.runtime.listPods();
    const byKey = new Map(listed.map((p) => [podKeyOf(p), p]));
    for (const pod of running) {
      const key = podKeyOf(pod);
      if (!this.applied.has(key)) this.applied.set(key, pod); // adopted: the runtime already runs it
    }
    const keys = new Set([...byKey.keys(), ...running.map(podKeyOf), ...this.applied.keys()]);
    let errors = 0;
    await Promise.all([...keys].map(async (key) => {
      const [namespace, name] = splitKey(key);
      try {
        await this.reconcile(namespace, name, byKey.get(key)); // absent from the list: fetched again
      } catch (err) {
        errors++;
        this.o.log(`resync ${key}: ${(err as Error).message}`);
      }
    }));
    return { pods: keys.size, errors };
  }

  /** knows tells whether the runtime was handed this pod key (for tests and metrics). */
  knows(key: string): boolean {
    return this.applied.has(key);
  }

  private async sync(namespace: string, name: string, fetched: Readonly<V1Pod> | null | undefined): Promise<void> {
    const key = `${namespace}/${name}`;
    const desired = fetched ?? ((await this.o.client.getOrUndefined(PODS, { namespace, name })) as V1Pod | undefined);
    for (const step of decidePodSteps(this.o.nodeName, desired, this.applied.get(key))) await this.act(key, step);
  }

  private async act(key: string, step: PodStep): Promise<void> {
    switch (step.action) {
      case 'create':
      case 'update': {
        if (step.action === 'create') await this.o.runtime.createPod(step.pod);
        else await this.o.runtime.updatePod(step.pod);
        this.applied.set(key, step.pod);
        return;
      }
      case 'stop':
        await this.o.runtime.deletePod(step.pod, step.gracePeriodSeconds);
        this.applied.delete(key);
        this.o.status.forget(key);
        return;
      case 'confirmDelete':
        await this.confirmDelete(step.pod);
        return;
    }
  }

  private async confirmDelete(pod: Readonly<V1Pod>): Promise<void> {
    const ref = { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' };
    try {
      await this.o.client.delete(PODS, ref, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      // Gone already, or replaced by a new pod of the same name (uid precondition): done either way.
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

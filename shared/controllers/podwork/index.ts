/**
 * The podwork controller: when a pod bound to a node changes (created, updated, deleted, or
 * bound), put a message naming it on that node's WorkQueue. The agent re-reads the pod through
 * the API and reconciles, so the message is only a nudge: duplicates and reordering are
 * harmless, and a lost one is recovered by the agent's periodic full resync.
 *
 * Keys are `node/namespace/name/uid` (none of those contain a slash), so deduplication in the
 * reconcile queue collapses a burst of changes to one pod into one message.
 */
import { deepEqual, isRecord, readMetadata, type KubeObject } from '../../api/objects.js';
import type { WorkQueue } from '../../workqueue/queue.js';
import type { Change } from '../change.js';
import type { Controller } from '../controller.js';

/** PodWork is the message body a node's queue receives: which pod to look at. */
export interface PodWork extends Record<string, unknown> {
  namespace: string;
  name: string;
  uid: string;
}

/** PodWorkMessage is one message for one node's queue. */
export interface PodWorkMessage {
  node: string;
  body: PodWork;
}

function nodeNameOf(pod: Readonly<KubeObject> | undefined): string | undefined {
  const spec = pod && isRecord(pod.spec) ? pod.spec : undefined;
  return typeof spec?.nodeName === 'string' && spec.nodeName !== '' ? spec.nodeName : undefined;
}

/**
 * agentRelevant says whether an update may change what the node agent does with the pod: its
 * spec, its deletion, or its identity. Status and most metadata are the agent's own writes (or
 * nobody's business on the node): without this, each status the agent writes would come back to
 * it as work. Without `prevValue` (a source that does not know it) every update counts.
 */
function agentRelevant(change: Change): boolean {
  const before = change.prevValue;
  if (change.type === 'delete' || !before) return true;
  const meta = readMetadata(change.value);
  const prev = readMetadata(before);
  const m = isRecord(change.value.metadata) ? change.value.metadata : {};
  const p = isRecord(before.metadata) ? before.metadata : {};
  return meta.uid !== prev.uid || m.deletionTimestamp !== p.deletionTimestamp || m.deletionGracePeriodSeconds !== p.deletionGracePeriodSeconds ||
    !deepEqual(change.value.spec, before.spec);
}

/**
 * podWorkMessages maps one change to the messages it causes: one for the node the pod is bound
 * to, and one for the node it was bound to before if that differs (Kubernetes forbids rebinding,
 * but a message too many costs nothing). Non-pods, unbound pods and updates that touch only the
 * status or other metadata cause none. Pure.
 */
export function podWorkMessages(change: Change): PodWorkMessage[] {
  if (change.value.kind !== 'Pod' || !agentRelevant(change)) return [];
  const meta = readMetadata(change.value);
  if (!meta.name || !meta.namespace || !meta.uid) return [];
  const body: PodWork = { namespace: meta.namespace, name: meta.name, uid: meta.uid };
  const nodes = new Set([nodeNameOf(change.value), nodeNameOf(change.prevValue)].filter((n): n is string => n !== undefined));
  return [...nodes].map((node) => ({ node, body: { ...body } }));
}

/** podWorkKey renders a message as a reconcile key; parsePodWorkKey reads it back. */
export function podWorkKey(message: PodWorkMessage): string {
  return [message.node, message.body.namespace, message.body.name, message.body.uid].join('/');
}

/** parsePodWorkKey reads a key made by podWorkKey; undefined if it is not one. */
export function parsePodWorkKey(key: string): PodWorkMessage | undefined {
  const parts = key.split('/');
  if (parts.length !== 4 || parts.some((p) => p === '')) return undefined;
  const [node, namespace, name, uid] = parts as [string, string, string, string];
  return { node, body: { namespace, name, uid } };
}

/**
 * podWorkController is the controller descriptor; `workQueue` gives the composition root's
 * WorkQueue (functions/runtime.ts `getWorkQueue`). A failed send throws, so the key is retried.
 */
export function podWorkController(workQueue: () => Promise<WorkQueue>): Controller {
  return {
    name: 'podwork',
    kinds: ['Pod'],
    keysFor: (change) => podWorkMessages(change).map(podWorkKey),
    async reconcile(key) {
      const message = parsePodWorkKey(key);
      if (!message) return;
      await (await workQueue()).send(message.node, message.body);
    },
    // Nothing to list: each agent resyncs its own pods (fieldSelector=spec.nodeName) on start and
    // periodically, which covers what a restart of the change feed may have missed.
    resync: async () => [],
  };
}

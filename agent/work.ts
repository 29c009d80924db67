/**
 * Where an agent's pod work comes from. Either the node's WorkQueue (peek-lock: complete after
 * success, abandon with back-off after a failure, dead-letter after `maxAttempts`), or, when no
 * queue is configured, a watch of the pods bound to the node feeding an in-memory keyed queue
 * (client-go's workqueue: a key waiting once however often it changes, retried with back-off).
 * Either way a work item is only a pod key: the reconciler reads the pod fresh.
 */
import { findResource } from '../shared/api/resources.js';
import { ApiError } from '../shared/api/status.js';
import { isRecord } from '../shared/api/objects.js';
import type { ApiClient } from '../shared/controllers/client.js';
import { WorkQueueError, type QueueMessage, type WorkQueue } from '../shared/workqueue/queue.js';

const PODS = findResource('', 'v1', 'pods')!;

/** WorkItem is one pod to reconcile; settle it exactly once. */
export interface WorkItem {
  namespace: string;
  name: string;
  /** 1 on the first try. */
  attempt: number;
  /** settle reports the outcome: success removes the item, failure retries it later. */
  settle(error?: unknown): Promise<void>;
}

/** WorkSource hands out work items. */
export interface WorkSource {
  /** next waits for items (possibly returning none, e.g. when `signal` aborts or a long poll ends). */
  next(signal: AbortSignal): Promise<WorkItem[]>;
  close(): void;
}

/** backoffMs is the retry delay after `attempt` failures: 200 ms doubling, at most 30 s. */
export function backoffMs(attempt: number): number {
  return Math.min(30_000, 200 * 2 ** Math.max(0, attempt - 1));
}

/** queueSource takes work from `queueName` (the node's name) on a WorkQueue. */
export function queueSource(queue: WorkQueue, queueName: string, log: (m: string) => void, maxAttempts = 8): WorkSource {
  const settleMessage = async (m: QueueMessage, error: unknown): Promise<void> => {
    try {
      if (error === undefined) await queue.complete(queueName, m);
      else if (m.deliveryCount >= maxAttempts) await queue.deadLetter(queueName, m, `reconcile failed ${m.deliveryCount} times: ${(error as Error).message ?? String(error)}`);
      else await queue.abandon(queueName, m, { delayMs: backoffMs(m.deliveryCount) });
    } catch (err) {
      // A lost lock means the message is delivered again: the next reconcile is harmless.
      if (!(err instanceof WorkQueueError && err.reason === 'LockLost')) throw err;
    }
  };
  return {
    async next(signal) {
      const messages = await queue.receive(queueName, { maxMessages: 16, waitMs: 20_000, signal });
      const items: WorkItem[] = [];
      for (const m of messages) {
        const { namespace, name } = m.body;
        if (typeof namespace !== 'string' || typeof name !== 'string') {
          log(`queue ${queueName}: message ${m.messageId} names no pod; dead-lettered`);
          await queue.deadLetter(queueName, m, 'body has no namespace and name').catch(() => undefined);
          continue;
        }
        items.push({ namespace, name, attempt: m.deliveryCount, settle: (error) => settleMessage(m, error) });
      }
      return items;
    },
    close() {},
  };
}

/**
 * KeyQueue is an in-memory keyed queue: a key added while waiting is not added twice; a key added
 * while being worked on is handed out again after it settles; failures come back after back-off.
 */
export class KeyQueue implements WorkSource {
  private readonly ready = new Set<string>();
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(private readonly maxAttempts = 8, private readonly log: (m: string) => void = () => undefined) {}

  /** add queues `namespace/name` now. */
  add(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.closed) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    const timer = this.delayed.get(key);
    if (timer) clearTimeout(timer);
    this.delayed.delete(key);
    this.ready.add(key);
    this.wake?.();
  }

  /** size is how many keys wait (ready or delayed). */
  get size(): number {
    return this.ready.size + this.delayed.size;
  }

  async next(signal: AbortSignal): Promise<WorkItem[]> {
    if (this.ready.size === 0 && !this.closed && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.wake = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    const keys = [...this.ready].slice(0, 16);
    return keys.map((key) => {
      this.ready.delete(key);
      this.active.add(key);
      const slash = key.indexOf('/');
      const attempt = (this.attempts.get(key) ?? 0) + 1;
      return { namespace: key.slice(0, slash), name: key.slice(slash + 1), attempt, settle: async (error?: unknown) => this.settle(key, attempt, error) };
    });
  }

  private settle(key: string, attempt: number, error: unknown): void {
    this.active.delete(key);
    const again = this.dirty.delete(key);
    if (error === undefined || attempt >= this.maxAttempts) {
      if (error !== undefined) this.log(`${key}: giving up after ${attempt} attempts (the periodic resync retries): ${(error as Error).message}`);
      this.attempts.delete(key);
      if (again) this.add(...split(key));
      return;
    }
    this.attempts.set(key, attempt);
    if (again) return this.add(...split(key));
    this.delayed.set(key, setTimeout(() => {
      this.delayed.delete(key);
      this.add(...split(key));
    }, backoffMs(attempt)));
  }

  close(): void {
    this.closed = true;
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
    this.wake?.();
  }
}

const split = (key: string): [string, string] => [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];

/** WATCH_LIST_PAGE is the page size of watchPods' list. */
const WATCH_LIST_PAGE = 500;

/**
 * watchPods lists then watches pods matching `fieldSelector` and calls `onPod(nodeName, namespace,
 * name)` for every pod seen and every change, until `signal` aborts. A watch that ends or expires
 * (410) starts over with a fresh list. Failures wait `retryMs` and start over.
 */
export async function watchPods(client: ApiClient, fieldSelector: string | undefined, onPod: (nodeName: string, namespace: string, name: string) => void, signal: AbortSignal, log: (m: string) => void, retryMs = 1000): Promise<void> {
  const emit = (obj: unknown) => {
    if (!isRecord(obj) || !isRecord(obj.metadata) || !isRecord(obj.spec)) return;
    const { namespace, name } = obj.metadata;
    if (typeof obj.spec.nodeName === 'string' && typeof namespace === 'string' && typeof name === 'string') onPod(obj.spec.nodeName, namespace, name);
  };
  while (!signal.aborted) {
    try {
      // Paged at one revision (the continue token carries it): hollow nodes list every pod, and an
      // unpaged list counts against the server's few unpaged-list slots (429 under load).
      let resourceVersion: string | undefined;
      let cont: string | undefined;
      do {
        const page = await client.list(PODS, { fieldSelector, limit: WATCH_LIST_PAGE, continue: cont });
        page.items.forEach(emit);
        resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
        cont = page.metadata.continue || undefined;
      } while (cont && !signal.aborted);
      // A watch the server ends cleanly resumes where it was; an ERROR event (410 Gone) lists again.
      let expired = false;
      while (!expired && !signal.aborted) {
        for await (const event of client.watch(PODS, { fieldSelector, resourceVersion, allowWatchBookmarks: true, signal })) {
          if (event.type === 'ERROR') {
            expired = true;
            break;
          }
          if (isRecord(event.object.metadata) && typeof event.object.metadata.resourceVersion === 'string') resourceVersion = event.object.metadata.resourceVersion;
          if (event.type !== 'BOOKMARK') emit(event.object);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (!(err instanceof ApiError && err.code === 410)) log(`pod watch: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }
}

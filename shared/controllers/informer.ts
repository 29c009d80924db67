/**
 * Informer: client-go's list+watch cache of one resource, through the API. It lists once (paged),
 * then watches from the list's resourceVersion and applies every event to an in-memory map, so
 * readers look objects up without a list per pass; on a 410 Gone or a broken watch it lists
 * again. `revision` is the store revision the cache reflects.
 *
 * Consistent reads: a reader that must see every write made before it started (a reconcile
 * after its previous pass's creates, a scheduling pass after the change that woke it) calls
 * `syncToCurrent()`, which asks the server for its current revision (a one-item list) and waits
 * until the watch has delivered it — Kubernetes' "consistent reads from cache" (KEP-2340) — and
 * reads through the API instead when that did not happen in time (see SYNC_TIMEOUT_MS).
 *
 * NEVER modify cached objects: they are shared reads; writes go through copies.
 */
import { readMetadata, type KubeObject } from '../api/objects.js';
import { findResourceByKind, type ResourceType } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import type { ApiClient } from './client.js';

const NAMESPACES = findResourceByKind('v1', 'Namespace')!;
const LIST_PAGE = 5000;
const RETRY_MS = 500;
/**
 * SYNC_TIMEOUT_MS bounds how long a consistent read waits for the watch: upstream's watch cache
 * waits up to 3 s for a revision before it gives up (KEP-2340's fallback). The in-process
 * controllers' watches get a progress bookmark every PROGRESS_REQUEST_MS, so a healthy cache
 * answers in about that time; the wait only grows when the event loop is behind, and then the
 * fallback, a list through the API that decodes every pod of a big ReplicaSet (10,000 per pass),
 * is the one thing that makes it worse: at 250 ms bench:scheduler fell back about once a second.
 * Watches of other users get a bookmark every 10 s, so their reads may wait the whole bound.
 */
export const SYNC_TIMEOUT_MS = 3_000;

/** objectKey is `<namespace>/<name>` (or `<name>` for cluster-scoped objects). */
export function objectKey(obj: Readonly<KubeObject>): string {
  const meta = readMetadata(obj);
  return meta.namespace ? `${meta.namespace}/${String(meta.name)}` : String(meta.name);
}

function revisionOf(obj: Readonly<KubeObject> | undefined): number {
  return Number(obj ? readMetadata(obj).resourceVersion ?? 0 : 0) || 0;
}

/** InformerHandler is told about every change the cache applies (after applying it). */
export type InformerHandler = (type: 'put' | 'delete', obj: Readonly<KubeObject>, prev: Readonly<KubeObject> | undefined) => void;

/** Informer caches one resource; see the file comment. */
export class Informer {
  private readonly objects = new Map<string, Readonly<KubeObject>>();
  private readonly byNamespace = new Map<string, Map<string, Readonly<KubeObject>>>();
  private readonly waiters = new Set<{ revision: number; resolve: () => void }>();
  private readonly stopping = new AbortController();
  private readonly handlers: InformerHandler[] = [];
  private loop: Promise<void> | undefined;
  private firstSync: Promise<void>;
  private markSynced!: () => void;
  private current = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly resource: ResourceType,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.firstSync = new Promise((resolve) => (this.markSynced = resolve));
  }

  /** revision is the store revision the cache reflects. */
  get revision(): number {
    return this.current;
  }

  /** size is how many objects are cached. */
  get size(): number {
    return this.objects.size;
  }

  /** onChange registers a handler for every change applied from now on. */
  onChange(handler: InformerHandler): void {
    this.handlers.push(handler);
  }

  /** start begins list+watch in the background (once). */
  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** stop ends the watch. */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const w of this.waiters) w.resolve();
    await this.loop;
  }

  /** get returns the cached object of `key` (see objectKey). */
  get(key: string): Readonly<KubeObject> | undefined {
    return this.objects.get(key);
  }

  /** values iterates every cached object. */
  values(): IterableIterator<Readonly<KubeObject>> {
    return this.objects.values();
  }

  /** inNamespace iterates the cached objects of one namespace. */
  inNamespace(namespace: string): Iterable<Readonly<KubeObject>> {
    return this.byNamespace.get(namespace)?.values() ?? [];
  }

  /**
   * syncToCurrent starts the informer if needed and resolves once the cache reflects every write
   * the server had committed when it was called; false when that took over `timeoutMs`.
   */
  async syncToCurrent(timeoutMs = SYNC_TIMEOUT_MS): Promise<boolean> {
    this.start();
    const page = await this.client.list(NAMESPACES, { limit: 1 });
    return this.waitForRevision(Number(page.metadata.resourceVersion ?? 0), timeoutMs);
  }

  /** waitForRevision resolves true once the cache reflects `revision`, false after `timeoutMs`. */
  async waitForRevision(revision: number, timeoutMs = SYNC_TIMEOUT_MS): Promise<boolean> {
    this.start();
    if (this.current >= revision) return true;
    let timer: NodeJS.Timeout | undefined;
    const waiter = { revision, resolve: () => undefined as void };
    const reached = new Promise<boolean>((resolve) => {
      waiter.resolve = () => resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    this.waiters.add(waiter);
    try {
      return await reached;
    } finally {
      clearTimeout(timer);
      this.waiters.delete(waiter);
    }
  }

  /** synced resolves once the first list has been applied. */
  synced(): Promise<void> {
    this.start();
    return this.firstSync;
  }

  private async run(): Promise<void> {
    let listed = false;
    while (!this.stopping.signal.aborted) {
      try {
        // A watch the server ended goes on from where it was; only a failure lists again.
        if (!listed) await this.relist();
        listed = true;
        await this.watch(String(this.current));
      } catch (err) {
        listed = false;
        if (this.stopping.signal.aborted) return;
        if (!(err instanceof ApiError && err.code === 410)) this.onError(err);
        await new Promise((r) => setTimeout(r, RETRY_MS).unref?.());
      }
    }
  }

  /** relist replaces the cache with a fresh listing (at its resourceVersion). */
  private async relist(): Promise<void> {
    const seen = new Map<string, Readonly<KubeObject>>();
    let cont: string | undefined;
    let rv = '0';
    do {
      const page = await this.client.list(this.resource, { limit: LIST_PAGE, continue: cont });
      for (const item of page.items) seen.set(objectKey(item), item);
      rv = page.metadata.resourceVersion ?? rv;
      cont = page.metadata.continue || undefined;
    } while (cont);
    for (const [key, old] of this.objects) if (!seen.has(key)) this.apply('delete', old);
    for (const obj of seen.values()) this.apply('put', obj);
    this.advance(Number(rv));
    this.markSynced();
  }

  private async watch(from: string): Promise<void> {
    for await (const event of this.client.watch(this.resource, { resourceVersion: from, allowWatchBookmarks: true, signal: this.stopping.signal })) {
      if (event.type === 'ERROR') {
        const code = Number((event.object as { code?: unknown }).code ?? 0);
        throw new ApiError(code || 500, code === 410 ? 'Expired' : 'InternalError', String((event.object as { message?: unknown }).message ?? 'watch error'));
      }
      if (event.type !== 'BOOKMARK') this.apply(event.type === 'DELETED' ? 'delete' : 'put', event.object);
      this.advance(revisionOf(event.object));
    }
  }

  private apply(type: 'put' | 'delete', obj: Readonly<KubeObject>): void {
    const key = objectKey(obj);
    const prev = this.objects.get(key);
    const namespace = readMetadata(obj).namespace;
    if (type === 'delete') {
      this.objects.delete(key);
      if (namespace) this.byNamespace.get(namespace)?.delete(key);
    } else {
      if (prev && revisionOf(prev) > revisionOf(obj)) return;
      this.objects.set(key, obj);
      if (namespace) {
        let names = this.byNamespace.get(namespace);
        if (!names) this.byNamespace.set(namespace, (names = new Map()));
        names.set(key, obj);
      }
    }
    for (const h of this.handlers) h(type, obj, prev);
  }

  private advance(revision: number): void {
    if (revision <= this.current) return;
    this.current = revision;
    for (const w of this.waiters) if (w.revision <= revision) w.resolve();
  }
}

const informers = new WeakMap<ApiClient, Map<string, Informer>>();

/** sharedInformer returns the one started informer of `resource` over `client` (client-go's shared informer factory). */
export function sharedInformer(client: ApiClient, resource: ResourceType, onError?: (err: unknown) => void): Informer {
  let byResource = informers.get(client);
  if (!byResource) informers.set(client, (byResource = new Map()));
  const id = `${resource.group}/${resource.plural}`;
  let informer = byResource.get(id);
  if (!informer) byResource.set(id, (informer = new Informer(client, resource, onError).start()));
  return informer;
}

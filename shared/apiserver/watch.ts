/**
 * watch: a stream of newline-delimited JSON WatchEvents (ADDED, MODIFIED, DELETED, BOOKMARK,
 * ERROR). From an unset or "0" resourceVersion it first sends the current state as synthetic
 * ADDED events, then the changes after that list's revision; from a version it sends the changes
 * after it. Selectors apply to each event as Kubernetes' watch cache applies them: an object that
 * stops matching is DELETED, one that starts matching is ADDED.
 *
 * Every watch ends by itself (WatchLimits): the client then watches again from the last
 * resourceVersion it saw, as reflectors do, and misses nothing. A quiet watch sends keep-alives.
 */
import { groupVersion, storageKey } from '../api/resources.js';
import { ApiError, badRequest } from '../api/status.js';
import { matchesFilter, parseObjectFilter, type ObjectFilter } from '../api/selectors.js';
import type { KubeObject } from '../api/objects.js';
import { isStoreError, type WatchEvent as StoreEvent } from '../store/store.js';
import type { HandlerContext, WatchLimits } from './context.js';
import type { Peers } from './peers.js';
import { decode, parseResourceVersion, withResourceVersion } from './storage.js';
import { negotiateOutput, renderWatchObject, type OutputKind } from './output.js';
import { toApiError } from './respond.js';

/** WatchEventType is a Kubernetes watch event type. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** DEFAULT_WATCH_LIMITS are kube-apiserver's: watches last 30–60 min; a quiet watch gets a keep-alive every 30 s. */
export const DEFAULT_WATCH_LIMITS: WatchLimits = { minRequestTimeoutSeconds: 1800, keepAliveMs: 30_000 };

/**
 * MAX_WATCH_TIMEOUT_MS caps `timeoutSeconds`: a timer cannot wait longer than 2^31-1 ms (about
 * 24.8 days; Node fires a longer one at once), so a longer timeout is served as this one.
 */
export const MAX_WATCH_TIMEOUT_MS = 2 ** 31 - 1;

/** BOOKMARK_INTERVAL_MS is how long a quiet watch waits before a bookmark (when allowed). */
export const BOOKMARK_INTERVAL_MS = 10_000;

/** PROGRESS_REQUEST_MS is BOOKMARK_INTERVAL_MS for WatchLimits.progressUsers (within the informers' SYNC_TIMEOUT_MS). */
export const PROGRESS_REQUEST_MS = 100;

/**
 * watchTimeoutMs is how long one watch lasts: kube-apiserver's random duration in [min, 2×min]
 * (`random` in [0, 1)), or the client's `timeoutSeconds` when that is smaller (0: unset).
 */
export function watchTimeoutMs(clientSeconds: number, minRequestTimeoutSeconds: number, random: number = Math.random()): number {
  const serverMs = Math.floor(minRequestTimeoutSeconds * 1000 * (1 + random));
  return clientSeconds > 0 ? Math.min(clientSeconds * 1000, serverMs) : serverMs;
}

interface WatchRequest {
  filter: ObjectFilter;
  bookmarks: boolean;
  /** How long a quiet watch waits before a BOOKMARK (0: none). */
  progressMs: number;
  timeoutMs: number;
  /** The revision to watch after, or undefined to start with the current state as ADDED events. */
  fromRevision?: number;
  initialEventsEnd: boolean;
}

const truthy = (v: string | null) => v === 'true' || v === '1';

function parseWatchRequest(ctx: HandlerContext, limits: WatchLimits): WatchRequest {
  const q = ctx.query;
  const filter = parseObjectFilter(ctx.info.resource.kind, q);
  const named: ObjectFilter = ctx.info.name === undefined ? filter
    : { labels: filter.labels, fields: [...filter.fields, { field: 'metadata.name', value: ctx.info.name, negate: false }] };
  const timeoutText = q.get('timeoutSeconds');
  const timeout = timeoutText === null ? 0 : Number(timeoutText);
  if (!Number.isInteger(timeout) || timeout < 0) throw badRequest(`invalid timeoutSeconds: "${timeoutText}"`);
  const rv = q.get('resourceVersion') ?? '';
  const sendInitial = q.get('sendInitialEvents');
  const bookmarks = truthy(q.get('allowWatchBookmarks'));
  const initial = sendInitial === 'true' || ((rv === '' || rv === '0') && sendInitial !== 'false');
  const progressMs = !bookmarks ? 0 : limits.progressUsers?.includes(ctx.user.username) ? PROGRESS_REQUEST_MS : BOOKMARK_INTERVAL_MS;
  return {
    filter: named,
    bookmarks,
    progressMs,
    timeoutMs: Math.min(watchTimeoutMs(timeout, limits.minRequestTimeoutSeconds), MAX_WATCH_TIMEOUT_MS),
    fromRevision: initial ? undefined : rv === '' || rv === '0' ? 0 : parseResourceVersion(rv),
    initialEventsEnd: sendInitial === 'true' && bookmarks,
  };
}

/**
 * translate turns one store event into the watch event a filtered watcher sees (or none).
 * Deleted objects carry the revision of the delete as their resourceVersion.
 */
export function translate(kind: string, filter: ObjectFilter, ev: StoreEvent): { type: WatchEventType; object: KubeObject } | undefined {
  if (ev.type === 'progress') return undefined;
  const cur = ev.type === 'put' ? decode(ev.kv) : undefined;
  const prev = ev.prev ? decode(ev.prev) : undefined;
  const curMatches = cur !== undefined && matchesFilter(kind, filter, cur);
  const prevMatches = prev !== undefined && matchesFilter(kind, filter, prev);
  if (ev.type === 'delete') return prevMatches ? { type: 'DELETED', object: withResourceVersion(prev!, ev.kv.modRevision) } : undefined;
  if (curMatches) return { type: prevMatches ? 'MODIFIED' : 'ADDED', object: cur! };
  if (prevMatches) return { type: 'DELETED', object: withResourceVersion(prev!, ev.kv.modRevision) };
  return undefined;
}

function line(type: WatchEventType, object: unknown): Uint8Array {
  return Buffer.from(`${JSON.stringify({ type, object })}\n`);
}

/**
 * The JSON lines of store events already rendered as plain objects, by event type. A store hands
 * every watcher the same event object, so a hundred watchers of one change serialize it once
 * and share the bytes (a translated event depends only on the store event and its type).
 */
const sharedLines = new WeakMap<StoreEvent, Partial<Record<WatchEventType, Uint8Array>>>();

function sharedLine(ev: StoreEvent, type: WatchEventType, object: KubeObject): Uint8Array {
  let lines = sharedLines.get(ev);
  if (!lines) sharedLines.set(ev, (lines = {}));
  return (lines[type] ??= line(type, object));
}

/** WatchPosition is the revision up to which every change has been sent (or skipped by the filter). */
interface WatchPosition {
  revision: number;
}

async function* watchLines(ctx: HandlerContext, peers: Peers, req: WatchRequest, out: OutputKind, signal: AbortSignal, position: WatchPosition): AsyncGenerator<Uint8Array> {
  const { resource, namespace } = ctx.info;
  const prefix = storageKey(resource, namespace);
  const apiVersion = groupVersion(resource);
  let first = true;
  const render = (obj: KubeObject) => {
    const r = renderWatchObject(out, peers, resource, ctx.query, obj, first);
    first = false;
    return r;
  };
  const bookmark = (rev: number, extra: Record<string, unknown> = {}) =>
    line('BOOKMARK', { kind: resource.kind, apiVersion, metadata: { resourceVersion: String(rev), ...extra } });
  let from = req.fromRevision ?? 0;
  try {
    if (req.fromRevision === undefined) {
      const page = await ctx.store.list(prefix);
      from = page.revision;
      for (const kv of page.items) {
        const obj = decode(kv);
        if (matchesFilter(resource.kind, req.filter, obj)) yield line('ADDED', render(obj));
      }
      if (req.initialEventsEnd) yield bookmark(from, { annotations: { 'k8s.io/initial-events-end': 'true' } });
    } else if (from === 0) {
      from = await ctx.store.currentRevision();
    }
    position.revision = from;
    const events = ctx.store.watch(prefix, from, { signal, progressIntervalMs: req.progressMs });
    for await (const ev of events) {
      if (ev.type === 'progress') {
        position.revision = Math.max(position.revision, ev.revision);
        if (req.bookmarks) yield bookmark(ev.revision);
        continue;
      }
      position.revision = Math.max(position.revision, ev.kv.modRevision);
      const w = translate(resource.kind, req.filter, ev);
      if (!w) continue;
      yield out === 'Object' ? sharedLine(ev, w.type, w.object) : line(w.type, render(w.object));
    }
  } catch (err) {
    if (signal.aborted) return;
    const e = isStoreError(err, 'Gone') ? new ApiError(410, 'Expired', `too old resource version: ${from} (${await ctx.store.compactedRevision()})`) : toApiError(err, ctx.info);
    yield line('ERROR', e.toStatus());
  }
}

/** KEEP_ALIVE marks a wait for the next line that outlasted the keep-alive interval. */
const KEEP_ALIVE = Symbol('keep-alive');
const NEWLINE = Buffer.from('\n');

/** within resolves to `pending`'s result, or KEEP_ALIVE if it takes longer than `ms` (the read goes on). */
function within<T>(pending: Promise<T>, ms: number): Promise<T | typeof KEEP_ALIVE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof KEEP_ALIVE>((resolve) => (timer = setTimeout(() => resolve(KEEP_ALIVE), ms)));
  return Promise.race([pending, late]).finally(() => clearTimeout(timer));
}

/**
 * handleWatch answers a watch request with a streaming body that ends by itself (WatchLimits, or
 * the client's smaller `timeoutSeconds`), or as soon as the client goes away (the request's
 * signal, or the body cancelled by the server when the connection closes). While nothing is
 * sent for `keepAliveMs`, it sends a keep-alive: a BOOKMARK at the watch's position when the
 * client allows bookmarks, else a newline.
 */
export async function handleWatch(ctx: HandlerContext, peers: Peers): Promise<Response> {
  const limits: WatchLimits = { ...DEFAULT_WATCH_LIMITS, ...ctx.watchLimits };
  const req = parseWatchRequest(ctx, limits);
  const out = negotiateOutput(ctx.request);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), req.timeoutMs);
  const onClientGone = () => abort.abort();
  ctx.request.signal?.addEventListener('abort', onClientGone);
  if (ctx.request.signal?.aborted) abort.abort();
  const position: WatchPosition = { revision: 0 };
  const lines = watchLines(ctx, peers, req, out, abort.signal, position);
  const apiVersion = groupVersion(ctx.info.resource);
  const keepAlive = () => (req.bookmarks && position.revision > 0
    ? line('BOOKMARK', { kind: ctx.info.resource.kind, apiVersion, metadata: { resourceVersion: String(position.revision) } })
    : NEWLINE);
  const finish = () => {
    clearTimeout(timer);
    ctx.request.signal?.removeEventListener('abort', onClientGone);
  };
  let pending: Promise<IteratorResult<Uint8Array>> | undefined;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      pending ??= lines.next();
      const next = await within(pending, limits.keepAliveMs);
      if (next === KEEP_ALIVE) {
        controller.enqueue(keepAlive());
        return;
      }
      pending = undefined;
      if (next.done) {
        finish();
        controller.close();
      } else controller.enqueue(next.value);
    },
    async cancel() {
      abort.abort();
      finish();
      await lines.return(undefined);
    },
  });
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-cache, private' },
  });
}

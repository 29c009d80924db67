/**
 * Load shedding, as kube-apiserver's max-in-flight filter does
 * (k8s.io/apiserver/pkg/server/filters/maxinflight.go): at most `readOnly` non-mutating and
 * `mutating` mutating requests are served at once; one more is answered at once with 429
 * TooManyRequests and `Retry-After` (clients such as kubectl retry it), instead of queueing until
 * the process runs out of memory or time and starves its own health checks and its nodes.
 *
 * Kept apart, as API Priority and Fairness does with its `exempt` and `system-node-high` levels:
 * - long-running requests (watches, followed logs) are not counted, as upstream;
 * - node heartbeats — Lease renewals in `kube-node-lease` and Node status writes — have their own
 *   pool (`nodeHeartbeat`), so a flood of other requests never makes nodes miss their Lease;
 * - unpaged, unfiltered lists, the requests whose cost grows with the collection, also count
 *   against `heavyLists` (the coarse form of APF's list width), so a few of them run at once.
 * `/livez`, `/readyz` and `/healthz` are separate functions and never pass through here.
 *
 * A request holds its slot until its response body has been written out (a list streams), or
 * the client went away. Upstream lets `system:masters` through a full pool; here the in-process
 * controllers (the loopback identity) never pass through this filter, and the admin user is the
 * one who would flood it, so everyone else is limited alike.
 */
import { ApiError } from '../api/status.js';
import { errorResponse } from './respond.js';
import type { ApiHandler } from './index.js';

/** InflightLimits are the pool sizes; see the file comment. */
export interface InflightLimits {
  /** Non-mutating requests at once (kube-apiserver's --max-requests-inflight). */
  readOnly: number;
  /** Mutating requests at once (--max-mutating-requests-inflight). */
  mutating: number;
  /** Node Lease renewals and Node status writes at once (their own pool). */
  nodeHeartbeat: number;
  /** Unpaged lists at once (also counted as read-only). */
  heavyLists: number;
  /** The Retry-After a refused request gets, in seconds (upstream: 1). */
  retryAfterSeconds: number;
}

/**
 * DEFAULT_INFLIGHT_LIMITS suit one Node.js process (upstream's 400/200 are per multi-core
 * server): past a few dozen requests at once more concurrency only adds latency and memory.
 * Every admitted request takes turns on the one event loop with synchronous SQLite reads, so a
 * /readyz probe or a Lease renewal waits about one turn of each of them: with 100 + 50 admitted
 * (the earlier defaults) bench:overload saw /readyz p99 ≈ 20 s and 2.3 GiB of RSS, at 96% busy.
 */
export const DEFAULT_INFLIGHT_LIMITS: InflightLimits = { readOnly: 32, mutating: 16, nodeHeartbeat: 50, heavyLists: 4, retryAfterSeconds: 1 };

/** RequestClass is the pool a request is counted in. */
export type RequestClass = 'long-running' | 'node-heartbeat' | 'mutating' | 'read-only';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const NODE_LEASES = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/kube-node-lease\/leases(\/[^/]+)?$/;
const NODE_STATUS = /^\/api\/v1\/nodes\/[^/]+\/status$/;

function isWatch(url: URL): boolean {
  const w = url.searchParams.get('watch');
  return w === 'true' || w === '1' || /^\/apis?\/(?:[^/]+\/)?v[^/]*\/watch\//.test(url.pathname);
}

/** classifyRequest names the pool of a request (method and URL only: it runs before anything else). */
export function classifyRequest(method: string, url: URL): RequestClass {
  if (method === 'GET' && (isWatch(url) || (url.pathname.endsWith('/log') && url.searchParams.get('follow') === 'true'))) return 'long-running';
  if (NODE_LEASES.test(url.pathname) || NODE_STATUS.test(url.pathname)) return 'node-heartbeat';
  return MUTATING.has(method) ? 'mutating' : 'read-only';
}

/**
 * isUnpagedList tells a GET of a whole collection without `limit` and without selectors (read
 * from the path: `<plural>` or `namespaces/<ns>/<plural>` after the group/version). A filtered
 * list (a node's pods) answers little, whatever it scans.
 */
export function isUnpagedList(method: string, url: URL): boolean {
  const q = url.searchParams;
  if (method !== 'GET' || (q.has('limit') && q.get('limit') !== '0') || q.has('fieldSelector') || q.has('labelSelector')) return false;
  const parts = url.pathname.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : undefined;
  if (!rest || rest.length === 0) return false;
  return rest.length === 1 || (rest[0] === 'namespaces' && rest.length === 3);
}

/** tooManyRequests is the Status a refused request gets (upstream's message). */
export function tooManyRequests(retryAfterSeconds: number): ApiError {
  return new ApiError(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds });
}

/** InflightCounts are the requests being served per pool, and how many were refused so far. */
export interface InflightCounts {
  readOnly: number;
  mutating: number;
  nodeHeartbeat: number;
  heavyLists: number;
  refused: number;
}

/** Limited is a handler behind the filter, with its counters (for metrics and tests). */
export interface Limited extends ApiHandler {
  counts(): InflightCounts;
}

/** releasingBody passes `body` through and calls `release` once it has been read to the end, failed, or been cancelled. */
export function releasingBody(body: ReadableStream<Uint8Array>, release: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          release();
          controller.close();
        } else controller.enqueue(next.value);
      } catch (err) {
        release();
        controller.error(err);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * withInflightLimit puts `handler` behind the max-in-flight filter (see the file comment);
 * `onRefused` hears of each request answered 429 here (the request metrics count them).
 */
export function withInflightLimit(handler: ApiHandler, limits: InflightLimits = DEFAULT_INFLIGHT_LIMITS, onRefused?: (request: Request) => void): Limited {
  const counts: InflightCounts = { readOnly: 0, mutating: 0, nodeHeartbeat: 0, heavyLists: 0, refused: 0 };
  const limited = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const cls = classifyRequest(request.method, url);
    if (cls === 'long-running') return handler(request);
    const pool = cls === 'node-heartbeat' ? 'nodeHeartbeat' : cls === 'mutating' ? 'mutating' : 'readOnly';
    const heavy = cls === 'read-only' && isUnpagedList(request.method, url);
    if (counts[pool] >= limits[pool] || (heavy && counts.heavyLists >= limits.heavyLists)) {
      counts.refused++;
      onRefused?.(request);
      const refused = errorResponse(tooManyRequests(limits.retryAfterSeconds));
      refused.headers.set('retry-after', String(limits.retryAfterSeconds));
      return refused;
    }
    counts[pool]++;
    if (heavy) counts.heavyLists++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      counts[pool]--;
      if (heavy) counts.heavyLists--;
    };
    try {
      const response = await handler(request);
      if (!response.body) {
        release();
        return response;
      }
      return new Response(releasingBody(response.body, release), { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (err) {
      release();
      throw err;
    }
  };
  return Object.assign(limited, { counts: () => ({ ...counts }) });
}

/** inflightLimitsFromSettings reads kube-apiserver's flags as settings (`CORACLE_MAX_REQUESTS_INFLIGHT`, `CORACLE_MAX_MUTATING_REQUESTS_INFLIGHT`, `CORACLE_MAX_NODE_HEARTBEATS_INFLIGHT`, `CORACLE_MAX_UNPAGED_LISTS_INFLIGHT`); unset or invalid ones keep the default. */
export function inflightLimitsFromSettings(settings: Record<string, string | undefined>): InflightLimits {
  const read = (name: string, fallback: number) => {
    const n = Number(settings[name] ?? '');
    return Number.isInteger(n) && n > 0 ? n : fallback;
  };
  const d = DEFAULT_INFLIGHT_LIMITS;
  return {
    readOnly: read('CORACLE_MAX_REQUESTS_INFLIGHT', d.readOnly),
    mutating: read('CORACLE_MAX_MUTATING_REQUESTS_INFLIGHT', d.mutating),
    nodeHeartbeat: read('CORACLE_MAX_NODE_HEARTBEATS_INFLIGHT', d.nodeHeartbeat),
    heavyLists: read('CORACLE_MAX_UNPAGED_LISTS_INFLIGHT', d.heavyLists),
    retryAfterSeconds: d.retryAfterSeconds,
  };
}

/**
 * The API server's own metrics, served at `/metrics` in Prometheus' text format as kube-apiserver
 * serves them (k8s.io/apiserver/pkg/endpoints/metrics): `apiserver_request_total` (counter by
 * verb, dry_run, group, version, resource, subresource, scope, component, code),
 * `apiserver_request_duration_seconds` (histogram, upstream's buckets, by the same labels less
 * code) and `apiserver_longrunning_requests` (gauge of the watches and followed logs open now),
 * plus prom-client's default process metrics (CPU, memory, event loop lag, GC, handles).
 *
 * prom-client sits here in shared/ rather than behind a port: it is a pure in-memory library with
 * no I/O and no platform binding, the same in Azure and locally, and the Prometheus exposition is
 * itself the contract, so a port would only wrap it one to one. Each ApiServerMetrics owns its
 * registry (no process-global state), so several API servers in one process (tests) never share
 * counters. Each API server process has its own figures, as each kube-apiserver does: with
 * several instances a scraper reads each one.
 *
 * Labels as upstream's CleanVerb and scope: the verb is the HTTP method with GET split into GET,
 * LIST and WATCH, PATCH with an apply body reported as APPLY, DELETE of a collection as
 * DELETECOLLECTION; scope is `resource`, `namespace` or `cluster`; requests that are not resource
 * requests (discovery, /healthz, /metrics) have empty group, resource and scope.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { exposition, LATENCY_BUCKETS } from '../telemetry/registry.js';
import { ApiError } from '../api/status.js';
import type { RequestInfo, UserInfo } from './context.js';
import { route } from './router.js';
import { releasingBody } from './inflight.js';
import { nodeNameOf } from './authorize.js';
import { isBootstrapper } from './tokens.js';

/** METRICS_PATH is where the metrics are served. */
export const METRICS_PATH = '/metrics';

const REQUEST_LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;
const LONGRUNNING_LABELS = ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;

type RequestLabels = Record<(typeof REQUEST_LABELS)[number], string>;

/** ApiServerMetrics is one API server's metric registry. */
export class ApiServerMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<(typeof REQUEST_LABELS)[number] | 'code'>;
  private readonly durations: Histogram<(typeof REQUEST_LABELS)[number]>;
  private readonly longRunning: Gauge<(typeof LONGRUNNING_LABELS)[number]>;

  /**
   * `registry` is where the metrics go (default: a new one); the host passes the process's
   * (shared/telemetry/registry.ts, which has the process metrics already), so `/metrics` serves
   * the store, work-queue and durable figures too. With `processMetrics` (default: true for a new
   * registry) prom-client's default process metrics are registered too.
   */
  constructor(options: { processMetrics?: boolean; registry?: Registry } = {}) {
    this.registry = options.registry ?? new Registry();
    this.requests = new Counter({
      name: 'apiserver_request_total', help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
      labelNames: [...REQUEST_LABELS, 'code'], registers: [this.registry],
    });
    this.durations = new Histogram({
      name: 'apiserver_request_duration_seconds', help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
      labelNames: [...REQUEST_LABELS], buckets: LATENCY_BUCKETS, registers: [this.registry],
    });
    this.longRunning = new Gauge({
      name: 'apiserver_longrunning_requests', help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
      labelNames: [...LONGRUNNING_LABELS], registers: [this.registry],
    });
    if (options.processMetrics ?? options.registry === undefined) collectDefaultMetrics({ register: this.registry });
  }

  /** observe records one finished request (or, for a long-running one, the time to its response headers). */
  observe(labels: RequestLabels, code: number, seconds: number): void {
    this.requests.inc({ ...labels, code: String(code) });
    this.durations.observe(labels, seconds);
  }

  /** refused counts a request the max-in-flight filter answered 429 before any handler saw it. */
  refused(request: Request): void {
    this.observe(requestLabels(request, new URL(request.url)), 429, 0);
  }

  /** longRunningStarted counts a long-running request as open; the function it returns closes it (once). */
  longRunningStarted(labels: RequestLabels): () => void {
    const { dry_run: _dryRun, ...gaugeLabels } = labels;
    this.longRunning.inc(gaugeLabels);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.longRunning.dec(gaugeLabels);
    };
  }

  /** exposition renders every metric in the Prometheus text format. */
  exposition(): Promise<Response> {
    return exposition(this.registry);
  }
}

function scopeOf(info: RequestInfo): string {
  if (info.name !== undefined) return 'resource';
  return info.resource.namespaced && info.namespace !== undefined ? 'namespace' : 'cluster';
}

/** reportedVerb is upstream's CleanVerb: the verb a request is counted under. */
export function reportedVerb(request: Request, info: RequestInfo | undefined): string {
  if (!info) return request.method === 'HEAD' ? 'GET' : request.method;
  switch (info.verb) {
    case 'list': return 'LIST';
    case 'watch': return 'WATCH';
    case 'get': return 'GET';
    case 'create': return 'POST';
    case 'update': return 'PUT';
    case 'delete': return 'DELETE';
    case 'deletecollection': return 'DELETECOLLECTION';
    case 'patch': return (request.headers.get('content-type') ?? '').startsWith('application/apply-patch') ? 'APPLY' : 'PATCH';
  }
}

/**
 * dryRunLabel is upstream's cleanDryRun: "" without dryRun, "All" for dryRun=All, "invalid" for
 * anything else (a label value must never come from what a client may write freely).
 */
export function dryRunLabel(query: URLSearchParams): string {
  const values = query.getAll('dryRun');
  if (values.length === 0) return '';
  return values.every((v) => v === 'All') ? 'All' : 'invalid';
}

/** requestLabels are the labels a request is counted under (see the file comment). */
export function requestLabels(request: Request, url: URL): RequestLabels {
  let info: RequestInfo | undefined;
  try {
    info = route(request.method, url);
  } catch {
    info = undefined; // not a resource request (or a bad one): counted without a resource
  }
  return {
    verb: reportedVerb(request, info), dry_run: dryRunLabel(url.searchParams),
    group: info?.resource.group ?? '', version: info?.resource.version ?? '', resource: info?.resource.plural ?? '',
    subresource: info?.subresource ?? '', scope: info ? scopeOf(info) : '', component: 'apiserver',
  };
}

function isLongRunning(request: Request, url: URL, labels: RequestLabels): boolean {
  return labels.verb === 'WATCH' || (request.method === 'GET' && labels.subresource === 'log' && url.searchParams.get('follow') === 'true');
}

/**
 * withRequestMetrics counts every request `handler` answers, whatever it answers (2xx or a Status
 * error). A long-running request counts in the gauge until its response body ends or the client
 * goes away. It wraps the API handler itself, so the in-process controllers' loopback calls count
 * too, as upstream's; the max-in-flight filter in front reports its 429s through `refused`.
 */
export function withRequestMetrics(handler: (request: Request) => Promise<Response>, metrics: ApiServerMetrics): (request: Request) => Promise<Response> {
  return async (request) => {
    const started = performance.now();
    const url = new URL(request.url);
    const labels = requestLabels(request, url);
    const longRunning = isLongRunning(request, url, labels);
    let response: Response;
    try {
      response = await handler(request);
    } catch (err) {
      metrics.observe(labels, 500, (performance.now() - started) / 1000);
      throw err;
    }
    metrics.observe(labels, response.status, (performance.now() - started) / 1000);
    if (!longRunning || !response.body || response.status !== 200) return response;
    const done = metrics.longRunningStarted(labels);
    return new Response(releasingBody(response.body, done), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/**
 * mayReadMetrics tells whether `user` may read /metrics: nodes and bootstrap tokens may not (no
 * system:node role grants the non-resource URL upstream); other authenticated users may (RBAC is
 * not built; with it, the `system:monitoring` role would decide).
 */
export function mayReadMetrics(user: UserInfo): boolean {
  return nodeNameOf(user) === undefined && !isBootstrapper(user);
}

/** metricsForbidden is upstream's denial of the non-resource URL. */
export function metricsForbidden(user: UserInfo): ApiError {
  return new ApiError(403, 'Forbidden', `forbidden: User "${user.username}" cannot get path "${METRICS_PATH}"`, {});
}

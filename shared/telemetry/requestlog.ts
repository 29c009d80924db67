/**
 * One id per API request, and one structured log line per request.
 *
 * The id is the request's audit ID (upstream's `Audit-Id`): taken from an incoming `Audit-Id`
 * header (as kube-apiserver honours it) or `X-Request-Id` (what proxies and tracing front ends
 * send), else a new UUID; the same Request object always gets the same id (`requestIdOf`), so the
 * audit log, this log and the response's `Audit-Id` header agree. The log line carries the id
 * with the verb, resource, namespace, name, user, HTTP status and latency, as fields a log
 * search can query (pino's JSON), written where the process's logger writes.
 *
 * Each request is also an OpenTelemetry server span (`@opentelemetry/api`: a no-op until an SDK
 * is registered, as adapters/telemetry/azuremonitor.ts does when Application Insights is
 * configured) named `<verb> <resource>`, with the id as `coracle.request_id`.
 *
 * While a request is handled its id is the current one (AsyncLocalStorage): the store decorator
 * records it beside each write the request makes (`withRequestId`), and the change feed hands it
 * to the controllers that act on the write.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import type { WriteOptions } from '../store/store.js';
import type { RequestFacts, RequestObserver } from '../audit/audit.js';
import { secondsSince } from './registry.js';

const ids = new WeakMap<Request, string>();
/** Longest incoming id kept; a longer (or non-printable) one is replaced, never echoed into logs. */
const MAX_ID_LENGTH = 128;
const PRINTABLE = /^[\x21-\x7e]+$/;

/** requestIdOf is `request`'s id (see the file comment), the same on every call for one Request. */
export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (id === undefined) {
    const given = request.headers.get('audit-id') || request.headers.get('x-request-id') || '';
    id = given.length <= MAX_ID_LENGTH && PRINTABLE.test(given) ? given : randomUUID();
    ids.set(request, id);
  }
  return id;
}

const current = new AsyncLocalStorage<string>();

/** currentRequestId is the id of the API request being handled here (undefined outside one). */
export function currentRequestId(): string | undefined {
  return current.getStore();
}

/**
 * withRequestId adds the current request's id to a store write's options (an id already given
 * wins), so the write records which request made it (see the Store port's WriteOptions).
 */
export function withRequestId(options?: WriteOptions): WriteOptions | undefined {
  const requestId = options?.requestId ?? current.getStore();
  return requestId === undefined ? options : { ...options, requestId };
}

/** RequestLogLine is what is logged about one finished request. */
export interface RequestLogLine {
  requestId: string;
  verb: string;
  /** The request's path and query (for non-resource requests the only way to tell them apart). */
  uri: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  user?: string;
  status: number;
  latencyMs: number;
  userAgent?: string;
}

/** RequestLog logs requests: `observe` goes to createApiServer (with the audit log's), `wrap` around its handler. */
export interface RequestLog {
  observe: RequestObserver;
  wrap(handler: (request: Request) => Promise<Response>): (request: Request) => Promise<Response>;
}

/** createRequestLog logs each request `wrap`ped handlers answer to `write`, and answers with its id in `Audit-Id`. */
export function createRequestLog(write: (line: RequestLogLine) => void): RequestLog {
  const facts = new WeakMap<Request, RequestFacts>();
  return {
    observe: (request, learnt) => facts.set(request, { ...facts.get(request), ...learnt }),
    wrap: (handler) => async (request) => {
      const started = performance.now();
      const requestId = requestIdOf(request);
      const url = new URL(request.url);
      return tracer.startActiveSpan(request.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': url.pathname, 'coracle.request_id': requestId } }, async (span) => {
        let status = 500;
        try {
          const response = await current.run(requestId, () => handler(request));
          status = response.status;
          try {
            response.headers.set('Audit-Id', requestId);
          } catch {
            // immutable headers (a fetched response): the id is still in the log
          }
          return response;
        } finally {
          const { user, info } = facts.get(request) ?? {};
          const line: RequestLogLine = {
            requestId, verb: info?.verb ?? request.method.toLowerCase(), uri: `${url.pathname}${url.search}`,
            resource: info?.resource.group ? `${info.resource.plural}.${info.resource.group}` : info?.resource.plural,
            subresource: info?.subresource, namespace: info?.namespace, name: info?.name, user: user?.username, status,
            latencyMs: Math.round(secondsSince(started) * 1e6) / 1e3, userAgent: request.headers.get('user-agent') ?? undefined,
          };
          write(line);
          endSpan(span, line);
        }
      });
    },
  };
}

const tracer = trace.getTracer('coracle-apiserver');

/** endSpan names a request's span after what was asked (`create pods`) and ends it with the outcome. */
function endSpan(span: Span, line: RequestLogLine): void {
  span.updateName(line.resource ? `${line.verb} ${line.resource}${line.subresource ? `/${line.subresource}` : ''}` : `${line.verb} ${line.uri.split('?')[0]}`);
  span.setAttributes({
    'http.response.status_code': line.status, 'k8s.resource': line.resource ?? '', 'k8s.namespace.name': line.namespace ?? '',
    'k8s.object.name': line.name ?? '', 'enduser.id': line.user ?? '',
  });
  if (line.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** observers combines request observers (the audit log's and the request log's) into one. */
export function observers(...list: Array<RequestObserver | undefined>): RequestObserver {
  return (request, learnt) => {
    for (const observe of list) observe?.(request, learnt);
  };
}

/**
 * The audit log: every request the policy selects becomes `audit.k8s.io/v1` Events (one per
 * stage: RequestReceived, ResponseStarted for watches, ResponseComplete), handed to an AuditSink
 * (a file locally, Log Analytics in Azure; adapters/audit). It wraps the API handler from outside
 * (`Auditor.wrap`), and learns who the caller is and what the request means from the API server itself
 * (`observe`, the `onRequestFacts` option of createApiServer), so the record is what was decided.
 *
 * Secret values never reach it, whatever the policy says: requests for Secrets, ServiceAccount
 * tokens and token reviews are recorded at Metadata at most (kube-apiserver's own default policy
 * advice), and any body that turns out to be a Secret is dropped.
 */
import { requestIdOf } from '../telemetry/requestlog.js';
import type { RequestInfo, UserInfo } from '../apiserver/context.js';
import { isRecord } from '../api/objects.js';
import { readBody } from '../apiserver/body.js';
import { decodeProtobufObject, isProtobuf } from '../apiserver/protobuf.js';
import { decide, type AuditAttributes, type Level, type Policy, type Stage } from './policy.js';

/** AuditEvent is one audit.k8s.io/v1 Event. */
export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: Exclude<Level, 'None'>;
  auditID: string;
  stage: Stage;
  requestURI: string;
  verb: string;
  user: { username?: string; groups?: readonly string[] };
  /** Who the request ran as when it impersonated someone (`user` stays the one who sent it). */
  impersonatedUser?: { username: string; groups: readonly string[] };
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: { resource: string; namespace?: string; name?: string; apiGroup?: string; apiVersion: string; subresource?: string };
  responseStatus?: { metadata: Record<string, never>; code: number; status?: string; reason?: string; message?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** AuditSink is where events go (the audit backend port). `write` never blocks the request: a sink buffers and reports its own failures. */
export interface AuditSink {
  write(event: AuditEvent): void;
  /** close flushes what is buffered and releases the backend. */
  close(): Promise<void>;
}

/** RequestFacts are what the API server learnt of a request: who sent it, and what it asks. */
export interface RequestFacts {
  user?: UserInfo;
  /** The identity an Impersonate-User request runs as, once allowed. */
  impersonatedUser?: UserInfo;
  info?: RequestInfo;
}

/** RequestObserver receives a request's facts as the API server learns them. */
export type RequestObserver = (request: Request, facts: RequestFacts) => void;

/** Resources whose bodies may hold credentials: never recorded above Metadata. */
const SENSITIVE = new Set(['/secrets', '/serviceaccounts/token', 'authentication.k8s.io/tokenreviews', 'authentication.k8s.io/tokenrequests']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** microTime renders a time as upstream's MicroTime (RFC 3339, six fractional digits). */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function isSensitive(info: RequestInfo | undefined): boolean {
  if (!info) return false;
  const resource = `${info.resource.group}/${info.resource.plural}`;
  return SENSITIVE.has(resource) || SENSITIVE.has(info.subresource ? `${resource}/${info.subresource}` : resource);
}

/** Drops any body that is (or lists) Secrets: the last guard, whatever the request looked like. */
function safeBody(body: unknown): unknown {
  if (!isRecord(body)) return body;
  if (body.kind === 'Secret' || body.kind === 'SecretList') return undefined;
  if (Array.isArray(body.items) && body.items.some((i) => isRecord(i) && i.kind === 'Secret')) return undefined;
  return body;
}

/** objectOf decodes a request body as the API server does (JSON, YAML, patches, protobuf), or a response's JSON or protobuf body; undefined when it cannot. */
async function objectOf(message: Request | Response | undefined): Promise<unknown> {
  if (!message) return undefined;
  try {
    if (message instanceof Request) return (await readBody(message)).value;
    if (isProtobuf((message.headers.get('content-type') ?? '').split(';')[0]!.trim())) return decodeProtobufObject(new Uint8Array(await message.arrayBuffer()));
    const text = await message.text();
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined; // not an object (a table, text): not recorded
  }
}

/** eventBase is what every stage's event of one request shares. */
function eventBase(request: Request, url: URL, known: RequestFacts, level: AuditEvent['level'], received: string): Omit<AuditEvent, 'stage' | 'stageTimestamp'> {
  const { user, info, impersonatedUser } = known;
  return {
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level, auditID: requestIdOf(request),
    requestURI: `${url.pathname}${url.search}`, verb: info?.verb ?? request.method.toLowerCase(),
    user: user ? { username: user.username, groups: [...user.groups] } : {},
    impersonatedUser: impersonatedUser && { username: impersonatedUser.username, groups: [...impersonatedUser.groups] },
    sourceIPs: (request.headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    userAgent: request.headers.get('user-agent') ?? undefined,
    objectRef: info && {
      resource: info.resource.plural, namespace: info.namespace, name: info.name,
      apiGroup: info.resource.group || undefined, apiVersion: info.resource.version, subresource: info.subresource,
    },
    requestReceivedTimestamp: received,
  };
}

/** AuditOptions configure createAuditor. */
export interface AuditOptions {
  policy: Policy;
  sink: AuditSink;
  now?: () => Date;
}

/** Auditor is an audit log: `observe` goes to createApiServer, `wrap` around its handler. */
export interface Auditor {
  observe: RequestObserver;
  wrap(handler: (request: Request) => Promise<Response>): (request: Request) => Promise<Response>;
  /** close flushes and closes the sink. */
  close(): Promise<void>;
}

/** createAuditor builds the audit log of one API server. */
export function createAuditor(options: AuditOptions): Auditor {
  const now = options.now ?? (() => new Date());
  const facts = new WeakMap<Request, RequestFacts>();
  return {
    observe: (request, learnt) => facts.set(request, { ...facts.get(request), ...learnt }),
    close: () => options.sink.close(),
    wrap: (handler) => async (request) => {
      const received = now();
      const url = new URL(request.url);
      // The body may be wanted once the level is known (after the handler read it): a copy now, dropped unread otherwise.
      const copy = BODY_METHODS.has(request.method) && request.body ? request.clone() : undefined;
      const response = await handler(request);
      const known = facts.get(request) ?? {};
      const info = known.info;
      const verb = info?.verb ?? request.method.toLowerCase();
      const attributes: AuditAttributes = {
        user: known.user, verb, path: url.pathname,
        resource: info && { group: info.resource.group, resource: info.resource.plural, subresource: info.subresource, namespace: info.namespace, name: info.name },
      };
      const decision = decide(options.policy, attributes);
      let level = decision.level;
      if (isSensitive(info) && (level === 'Request' || level === 'RequestResponse')) level = 'Metadata';
      if (level === 'None') {
        void copy?.body?.cancel();
        return response;
      }
      const base = eventBase(request, url, known, level, microTime(received));
      try {
        response.headers.set('Audit-Id', base.auditID);
      } catch {
        // immutable headers (a fetched response): the ID is still in the log
      }
      const emit = (stage: Stage, extra: Partial<AuditEvent> = {}) => {
        if (!decision.omitStages.includes(stage)) options.sink.write({ ...base, ...extra, stage, stageTimestamp: microTime(stage === 'RequestReceived' ? received : now()) });
      };
      emit('RequestReceived');
      const requestObject = level === 'Request' || level === 'RequestResponse' ? safeBody(await objectOf(copy)) : (void copy?.body?.cancel(), undefined);
      const status = { metadata: {}, code: response.status } as NonNullable<AuditEvent['responseStatus']>;
      const streaming = verb === 'watch' || (response.headers.get('content-type') ?? '').includes('stream') || response.headers.get('transfer-encoding') === 'chunked';
      if (streaming) {
        emit('ResponseStarted', { responseStatus: status, requestObject });
        if (!response.body) return response;
        const done = () => emit('ResponseComplete', { responseStatus: status, requestObject });
        const body = response.body.pipeThrough(new TransformStream({ flush: done }));
        return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
      }
      const answer = response.status >= 400 || level === 'RequestResponse' ? await objectOf(response.clone()) : undefined;
      if (response.status >= 400 && isRecord(answer) && answer.kind === 'Status') {
        Object.assign(status, { status: answer.status, reason: answer.reason, message: answer.message });
      }
      const annotations = known.user ? { 'authorization.k8s.io/decision': response.status === 403 ? 'forbid' : 'allow' } : undefined;
      emit('ResponseComplete', { responseStatus: status, requestObject, responseObject: level === 'RequestResponse' ? safeBody(answer) : undefined, annotations });
      return response;
    },
  };
}

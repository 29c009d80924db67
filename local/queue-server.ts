/**
 * The embedded WorkQueue over HTTP: the local host serves it to node agents under
 * `/coracle/queues/{node}/…` (in Azure, agents talk to Service Bus instead). The agent side is
 * `adapters/workqueue/http`.
 *
 * Routes (JSON in and out; `{queue}` is the node name, URL-encoded):
 *   POST {queue}/messages                      {body}                 → 201
 *   POST {queue}/receive                       {maxMessages, waitMs}  → 200 {messages}  (long poll)
 *   POST {queue}/messages/{id}/complete        {lockToken}            → 204
 *   POST {queue}/messages/{id}/abandon         {lockToken, delayMs}   → 204
 *   POST {queue}/messages/{id}/renew           {lockToken}            → 200 {lockedUntil}
 *   POST {queue}/messages/{id}/deadletter      {lockToken, reason}    → 204
 *   GET  {queue}/deadletters                                          → 200 {items}
 * Failures answer `{reason, message}`: 400 BadRequest, 401 Unauthorized, 403 Forbidden,
 * 404 NotFound, 405 MethodNotAllowed, 409 LockLost, 413 RequestEntityTooLarge (a body past
 * MAX_QUEUE_REQUEST_BYTES), 503 Unavailable.
 *
 * Authentication is the API server's: a bearer token from the static token file. A node
 * (`system:node:<name>` in `system:nodes`) may use only the queue named after it; a member of
 * `system:masters` (the admin, the controllers) may use any queue; anyone else gets 403.
 */
import { WorkQueueError, type QueueMessage, type WorkQueue } from '../shared/workqueue/queue.js';
import { nodeNameOf } from '../shared/apiserver/authorize.js';
import { readText } from '../shared/apiserver/body.js';
import { isApiError } from '../shared/api/status.js';
import type { UserInfo } from '../shared/apiserver/context.js';

/** QUEUE_PATH_PREFIX is where the local host mounts the queue server. */
export const QUEUE_PATH_PREFIX = '/coracle/queues/';
/** MAX_WAIT_MS caps a long poll, so idle connections are not cut by anything in between. */
export const MAX_WAIT_MS = 50_000;
const MASTERS_GROUP = 'system:masters';

/** QueueServerOptions wire the server to its queue and its users. */
export interface QueueServerOptions {
  /** The queue served, or how to get it once the host has built it. */
  queue: WorkQueue | (() => Promise<WorkQueue>);
  /** The user a bearer token authenticates, or undefined. */
  authenticate(token: string): UserInfo | undefined | Promise<UserInfo | undefined>;
  /** Mount point (default QUEUE_PATH_PREFIX). */
  prefix?: string;
}

/** QueueHandler is a fetch-style handler; a request's `signal` ends its long poll. */
export type QueueHandler = (request: Request) => Promise<Response>;

type ErrorReason = 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'MethodNotAllowed' | 'LockLost' | 'RequestEntityTooLarge' | 'Unavailable';
const STATUS: Record<ErrorReason, number> = {
  BadRequest: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, MethodNotAllowed: 405, LockLost: 409, RequestEntityTooLarge: 413, Unavailable: 503,
};

/**
 * MAX_QUEUE_REQUEST_BYTES bounds a request body: Service Bus Standard's largest message (256 KiB),
 * which the same work items must fit in Azure. A larger body is 413 before it is read in full.
 */
export const MAX_QUEUE_REQUEST_BYTES = 256 * 1024;

class HttpFailure extends Error {
  constructor(readonly reason: ErrorReason, message: string) {
    super(message);
  }
}

const json = (status: number, value: unknown) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

function failure(err: unknown): Response {
  if (err instanceof HttpFailure) return json(STATUS[err.reason], { reason: err.reason, message: err.message });
  if (err instanceof WorkQueueError) return json(STATUS[err.reason], { reason: err.reason, message: err.message });
  return json(500, { reason: 'InternalError', message: (err as Error)?.message ?? String(err) });
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readText(request, MAX_QUEUE_REQUEST_BYTES);
  } catch (err) {
    if (isApiError(err) && err.code === 413) throw new HttpFailure('RequestEntityTooLarge', `the request body is larger than ${MAX_QUEUE_REQUEST_BYTES} bytes`);
    throw err;
  }
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpFailure('BadRequest', 'the request body is not a JSON object');
}

async function whoIs(request: Request, options: QueueServerOptions): Promise<UserInfo> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
  const user = m ? await options.authenticate(m[1]!) : undefined;
  if (!user) throw new HttpFailure('Unauthorized', 'a valid bearer token is required');
  return user;
}

function authorize(user: UserInfo, queue: string): void {
  if (user.groups.includes(MASTERS_GROUP)) return;
  const node = nodeNameOf(user);
  if (node === queue) return;
  const why = node === undefined ? 'only nodes and system:masters use work queues' : `node "${node}" may use only its own queue`;
  throw new HttpFailure('Forbidden', `User "${user.username}" cannot use the work queue "${queue}": ${why}`);
}

/** settleable rebuilds the part of a QueueMessage that settling needs from a request body. */
function settleable(messageId: string, body: Record<string, unknown>): QueueMessage {
  if (typeof body.lockToken !== 'string' || body.lockToken === '') throw new HttpFailure('BadRequest', 'lockToken is required');
  return { messageId, lockToken: body.lockToken, body: {}, deliveryCount: 0, lockedUntil: 0, enqueuedAt: 0 };
}

function optionalNumber(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new HttpFailure('BadRequest', `${name} is a number of at least 0`);
  return value;
}

async function route(queue: WorkQueue, request: Request, name: string, rest: string[]): Promise<Response> {
  const method = request.method.toUpperCase();
  const expect = (wanted: string) => {
    if (method !== wanted) throw new HttpFailure('MethodNotAllowed', `${method} is not allowed here (use ${wanted})`);
  };
  const [first, id, action, ...extra] = rest;
  if (first === 'deadletters' && rest.length === 1) {
    expect('GET');
    return json(200, { items: await queue.deadLetters(name) });
  }
  if (first === 'messages' && rest.length === 1) {
    expect('POST');
    const { body } = await readJson(request);
    await queue.send(name, body as Record<string, unknown>);
    return new Response(null, { status: 201 });
  }
  if (first === 'receive' && rest.length === 1) {
    expect('POST');
    const body = await readJson(request);
    const waitMs = Math.min(optionalNumber(body.waitMs, 'waitMs') ?? 0, MAX_WAIT_MS);
    const messages = await queue.receive(name, { maxMessages: body.maxMessages as number | undefined, waitMs, signal: request.signal });
    return json(200, { messages });
  }
  if (first === 'messages' && id && action && extra.length === 0) {
    expect('POST');
    const body = await readJson(request);
    const message = settleable(id, body);
    switch (action) {
      case 'complete':
        await queue.complete(name, message);
        return new Response(null, { status: 204 });
      case 'abandon':
        await queue.abandon(name, message, { delayMs: optionalNumber(body.delayMs, 'delayMs') });
        return new Response(null, { status: 204 });
      case 'renew':
        return json(200, { lockedUntil: await queue.renewLock(name, message) });
      case 'deadletter':
        await queue.deadLetter(name, message, typeof body.reason === 'string' ? body.reason : '');
        return new Response(null, { status: 204 });
    }
  }
  throw new HttpFailure('NotFound', `no queue operation at ${new URL(request.url).pathname}`);
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpFailure('BadRequest', `invalid URL escape in "${part}"`);
  }
}

/** createQueueServer returns the handler for everything under the prefix; other paths answer 404. */
export function createQueueServer(options: QueueServerOptions): QueueHandler {
  const prefix = options.prefix ?? QUEUE_PATH_PREFIX;
  const queueOf = typeof options.queue === 'function' ? options.queue : () => Promise.resolve(options.queue as WorkQueue);
  return async (request) => {
    try {
      const path = new URL(request.url).pathname;
      if (!path.startsWith(prefix)) throw new HttpFailure('NotFound', `${path} is not under ${prefix}`);
      const user = await whoIs(request, options);
      const [encodedName, ...rest] = path.slice(prefix.length).split('/');
      const name = decodePart(encodedName ?? '');
      if (name === '' || rest.length === 0) throw new HttpFailure('NotFound', `no queue operation at ${path}`);
      authorize(user, name);
      return await route(await queueOf(), request, name, rest.map(decodePart));
    } catch (err) {
      return failure(err);
    }
  };
}

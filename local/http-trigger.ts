/**
 * Serving HTTP-trigger functions from a node:http(s) server, as the Functions host does:
 * the route prefix from host.json, route templates with parameters, the trigger's methods (a
 * method the route does not list answers 404, as in Azure), and streaming bodies both ways —
 * the request body is a stream the handler may read while the response is already flowing, and a
 * `ReadableStream` response body is written out chunk by chunk (that is how `watch` works).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import azureFunctions, { type Cookie } from '@azure/functions';
import type { RegisteredFunction } from './functions-core.js';
import { triggerOf } from './functions-core.js';
import { compareRoutes, compileRoute, type CompiledRoute, type RouteParams } from './routes.js';
import { invokeFunction, withFunctionTimeout, type InvokeOptions } from './invoke.js';

// The library is a webpack bundle: Node cannot see its classes as named ESM exports.
const { HttpRequest, HttpResponse } = azureFunctions;

/** HttpRoute is one HTTP-trigger function's route. */
export interface HttpRoute {
  fn: RegisteredFunction;
  route: CompiledRoute;
  /** Upper-case methods; empty means every method. */
  methods: ReadonlySet<string>;
}

/** buildHttpRoutes compiles the routes of the HTTP-trigger functions, most specific first. */
export function buildHttpRoutes(functions: Iterable<RegisteredFunction>, routePrefix: string): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const fn of functions) {
    const trigger = triggerOf(fn.metadata);
    if (trigger.type !== 'httpTrigger') continue;
    const template = typeof trigger.route === 'string' ? trigger.route : fn.metadata.name;
    const prefix = routePrefix.replace(/^\/+|\/+$/g, '');
    const route = compileRoute(prefix ? `${prefix}/${template}` : template);
    const methods = Array.isArray(trigger.methods) ? trigger.methods.map((m) => String(m).toUpperCase()) : [];
    routes.push({ fn, route, methods: new Set(methods) });
  }
  return routes.sort((a, b) => compareRoutes(a.route, b.route));
}

/** findHttpRoute returns the first route that matches the path and allows the method. */
export function findHttpRoute(routes: readonly HttpRoute[], method: string, path: string): { route: HttpRoute; params: RouteParams } | undefined {
  for (const route of routes) {
    if (route.methods.size > 0 && !route.methods.has(method)) continue;
    const params = route.route.match(path);
    if (params) return { route, params };
  }
  return undefined;
}

/** toNativeRequest turns an incoming message into a fetch `Request` whose body streams. */
export function toNativeRequest(req: IncomingMessage, baseUrl: string): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  // The client's address last, as Azure's front end adds it (the audit log's sourceIPs).
  if (req.socket?.remoteAddress) headers.append('x-forwarded-for', req.socket.remoteAddress);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', baseUrl), {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    duplex: 'half',
  } as RequestInit);
}

/** serializeCookie renders one `HttpResponse` cookie as a Set-Cookie value. */
function serializeCookie(c: Cookie): string {
  const parts = [`${c.name}=${c.value}`];
  if (c.domain) parts.push(`Domain=${c.domain}`);
  if (c.path) parts.push(`Path=${c.path}`);
  if (c.expires) parts.push(`Expires=${new Date(c.expires).toUTCString()}`);
  if (c.maxAge !== undefined) parts.push(`Max-Age=${c.maxAge}`);
  if (c.secure) parts.push('Secure');
  if (c.httpOnly) parts.push('HttpOnly');
  if (c.sameSite) parts.push(`SameSite=${c.sameSite}`);
  return parts.join('; ');
}

/** PENDING marks a body read that did not complete within the current turn of the event loop. */
const PENDING = Symbol('pending');

/** readNow reads the next chunk if the body has it at hand (within this turn), else answers PENDING with the read still running. */
async function readNow<T>(read: Promise<T>): Promise<T | typeof PENDING> {
  let timer: NodeJS.Immediate | undefined;
  const later = new Promise<typeof PENDING>((resolve) => { timer = setImmediate(() => resolve(PENDING)); });
  try {
    return await Promise.race([read, later]);
  } finally {
    clearImmediate(timer);
  }
}

/**
 * writeHttpResponse writes a handler's result: an `HttpResponse`, an `HttpResponseInit`, or
 * nothing (204). A body that is complete at once (a JSON object, a list) goes out in one write
 * with its Content-Length; a body still being produced (a watch) gets its headers at once and is
 * piped chunk by chunk. If the client goes away first, the body stream is cancelled so its
 * producer (a watch) stops; on `shutdown` the body is cancelled too and the response ends
 * cleanly (a watcher sees the end of the stream, not a reset).
 */
export async function writeHttpResponse(result: unknown, res: ServerResponse, shutdown?: AbortSignal): Promise<void> {
  if (result === undefined || result === null) {
    res.writeHead(204).end();
    return;
  }
  const response = result instanceof HttpResponse ? result : new HttpResponse(result as ConstructorParameters<typeof HttpResponse>[0]);
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const setCookies = [...response.headers.getSetCookie(), ...response.cookies.map(serializeCookie)];
  if (setCookies.length) headers['set-cookie'] = setCookies;
  const body = response.body;
  if (!body) {
    res.writeHead(response.status, headers).end();
    return;
  }
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  res.once('close', cancel);
  shutdown?.addEventListener('abort', cancel, { once: true });
  if (shutdown?.aborted) cancel();
  try {
    // Whole at once? Then one write with a length (no chunked encoding, no separate header packet).
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined = reader.read();
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 2 && pending; i++) {
      const next = await readNow(pending);
      if (next === PENDING) break;
      pending = undefined;
      if (next.done) {
        const bytes = chunks.length === 0 ? undefined : chunks[0];
        if (headers['content-length'] === undefined && !headers['transfer-encoding']) headers['content-length'] = String(bytes?.byteLength ?? 0);
        res.writeHead(response.status, headers).end(bytes);
        return;
      }
      chunks.push(next.value);
      if (i === 0) pending = reader.read();
    }
    res.writeHead(response.status, headers);
    res.flushHeaders();
    for (const chunk of chunks) if (!(await writeChunk(res, chunk))) return;
    for (;;) {
      const { done, value } = await (pending ?? reader.read());
      pending = undefined;
      if (done || res.destroyed) break;
      if (!(await writeChunk(res, value))) break;
    }
  } finally {
    res.off('close', cancel);
    shutdown?.removeEventListener('abort', cancel);
    if (res.destroyed) cancel();
    else if (!res.writableEnded) res.end();
  }
}

/** writeChunk writes one chunk, waiting for the socket to drain; answers false once the response is gone. */
async function writeChunk(res: ServerResponse, chunk: Uint8Array): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(chunk)) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
  return !res.destroyed;
}

/** serveHttpTrigger runs the matched function for one request and writes its response. */
export async function serveHttpTrigger(
  match: { route: HttpRoute; params: RouteParams },
  req: IncomingMessage,
  res: ServerResponse,
  baseUrl: string,
  options: InvokeOptions,
  shutdown?: AbortSignal,
): Promise<void> {
  const nativeRequest = toNativeRequest(req, baseUrl);
  const request = new HttpRequest({ nativeRequest, params: match.params } as ConstructorParameters<typeof HttpRequest>[0]);
  // In stream mode an invocation lasts until its response body ends: functionTimeout counts all of it.
  const invocationId = randomUUID();
  await withFunctionTimeout(options.functionTimeout, match.route.fn.metadata.name, invocationId, async () => {
    const result = await invokeFunction(match.route.fn, request, {
      ...options,
      functionTimeout: undefined,
      triggerMetadata: { ...options.triggerMetadata, ...match.params },
    }, invocationId);
    await writeHttpResponse(result, res, shutdown);
  });
}

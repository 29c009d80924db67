/**
 * The durable client's HTTP API, served by the local host as the Durable Functions extension
 * serves it: start (`POST orchestrators/{name}[/{id}]`), status (`GET instances/{id}`), query
 * (`GET instances/`), raise event, terminate, purge (`DELETE instances/{id}` or by filter).
 * Rewind, suspend and resume answer 501 (the client reports "not supported").
 *
 * It is served twice, as in Azure: under `/runtime/webhooks/durabletask/` on the host's own
 * address (requires `code=<key>`, the system key), and on a loopback-only plain-HTTP listener
 * that the `durableClient` binding's `rpcBaseUrl` names — so `df.getClient(context)` works
 * unchanged, also when the host serves HTTPS with a certificate the process does not trust. The
 * extension's own RPC endpoint takes no key; here every local user could reach the listener, so
 * its credential is a per-start secret in the rpcBaseUrl path (local/durable/index.ts), which the
 * client resolves every operation against.
 */
import { Buffer } from 'node:buffer';
import type { DurableEngine, OrchestrationStatus } from './engine.js';
import { InstanceConflictError, statusOf, UnknownOrchestratorError } from './engine.js';

/** WEBHOOK_PREFIX is where the host serves the API, as Azure does. */
export const WEBHOOK_PREFIX = '/runtime/webhooks/durabletask';
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/** DurableClientInput is the `durableClient` binding's value (OrchestrationClientInputData). */
export interface DurableClientInput {
  taskHubName: string;
  creationUrls: Record<string, string>;
  managementUrls: Record<string, string>;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
}

/** clientInput builds the binding value: public URLs on `publicBase`, operations through `rpcBase`. */
export function clientInput(publicBase: string, rpcBase: string, hub: string, key: string): DurableClientInput {
  const base = `${publicBase}${WEBHOOK_PREFIX}`;
  const q = `taskHub=${encodeURIComponent(hub)}&connection=Storage&code=${encodeURIComponent(key)}`;
  const instance = `${base}/instances/INSTANCEID`;
  return {
    taskHubName: hub,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?code=${encodeURIComponent(key)}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${encodeURIComponent(key)}`,
    },
    managementUrls: {
      id: 'INSTANCEID',
      statusQueryGetUri: `${instance}?${q}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${q}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${q}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${q}`,
      purgeHistoryDeleteUri: `${instance}?${q}`,
      restartPostUri: `${instance}/restart?${q}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${q}`,
      resumePostUri: `${instance}/resume?reason={text}&${q}`,
    },
    baseUrl: base,
    requiredQueryStringParameters: `code=${encodeURIComponent(key)}`,
    rpcBaseUrl: rpcBase,
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
const text = (status: number, message: string) => new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

/** WebhookOptions configure one serving of the API. */
export interface WebhookOptions {
  /** The path prefix this serving answers under (e.g. WEBHOOK_PREFIX, or `/durabletask` for the RPC listener). */
  prefix: string;
  /** Required `code` query parameter; none on the loopback RPC listener. */
  key?: string;
  /** The public base URL management links point at. */
  managementLinks: (instanceId: string) => Record<string, string>;
}

/** createWebhookHandler returns the fetch-style handler of the API over `engine`. */
export function createWebhookHandler(engine: DurableEngine, options: WebhookOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    if (options.key !== undefined && url.searchParams.get('code') !== options.key) return text(401, 'a valid code (system key) is required');
    const parts = url.pathname.slice(options.prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
    try {
      return await route(engine, request, url, parts, options);
    } catch (err) {
      if (err instanceof InstanceConflictError) return text(409, err.message);
      if (err instanceof UnknownOrchestratorError) return text(400, err.message);
      if (err instanceof SyntaxError) return text(400, `the request body is not JSON: ${err.message}`);
      throw err;
    }
  };
}

async function route(engine: DurableEngine, request: Request, url: URL, parts: string[], options: WebhookOptions): Promise<Response> {
  const method = request.method.toUpperCase();
  const [collection, id, verb, arg] = parts;
  if (collection === 'orchestrators' && method === 'POST' && id) {
    const body = await request.text();
    const instanceId = verb ?? crypto.randomUUID().replaceAll('-', '');
    engine.startNew(id, instanceId, body.trim() === '' ? undefined : JSON.parse(body));
    const links = options.managementLinks(instanceId);
    return json(202, links, { location: links.statusQueryGetUri! });
  }
  if (collection !== 'instances') return text(404, 'not found');
  if (!id) {
    if (method === 'GET') return query(engine, url, request.headers.get('x-ms-continuation-token') ?? url.searchParams.get('continuationToken'));
    if (method === 'DELETE') return purgeBy(engine, url);
    return text(405, 'method not allowed');
  }
  if (!verb) {
    if (method === 'GET') return status(engine, id, url);
    if (method === 'DELETE') return engine.purge(id) ? json(200, { instancesDeleted: 1 }) : text(404, `no finished instance '${id}'`);
    return text(405, 'method not allowed');
  }
  if (method !== 'POST') return text(405, 'method not allowed');
  if (verb === 'raiseEvent' && arg) {
    const body = await request.text();
    return delivered(engine.raiseEvent(id, arg, body.trim() === '' ? null : JSON.parse(body)), id);
  }
  if (verb === 'terminate') return delivered(engine.terminate(id, url.searchParams.get('reason') ?? ''), id);
  if (verb === 'rewind' || verb === 'suspend' || verb === 'resume' || verb === 'restart') return text(501, `${verb} is not supported by the local durable engine`);
  return text(404, 'not found');
}

function delivered(result: 'accepted' | 'notFound' | 'gone', id: string): Response {
  if (result === 'notFound') return text(404, `No instance with ID '${id}' found.`);
  return new Response(null, { status: result === 'accepted' ? 202 : 410 });
}

function status(engine: DurableEngine, id: string, url: URL): Response {
  const flag = (name: string) => url.searchParams.get(name)?.toLowerCase() === 'true';
  const s = engine.status(id, { showHistory: flag('showHistory'), showInput: url.searchParams.get('showInput')?.toLowerCase() !== 'false' });
  if (!s) return json(404, { message: `No instance with ID '${id}' found.` });
  return json(httpStatusOf(s), s);
}

/** httpStatusOf: 200 completed, 202 in progress, 400 failed or terminated (the extension's codes). */
function httpStatusOf(s: OrchestrationStatus): number {
  if (s.runtimeStatus === 'Completed') return 200;
  if (s.runtimeStatus === 'Failed' || s.runtimeStatus === 'Terminated') return 400;
  return 202;
}

function filterOf(url: URL): { statuses?: string[]; createdFrom?: string; createdTo?: string; prefix?: string } {
  const statuses = url.searchParams.get('runtimeStatus')?.split(',').map((s) => s.trim()).filter(Boolean);
  const time = (name: string) => {
    const v = url.searchParams.get(name);
    return v ? new Date(v).toISOString() : undefined;
  };
  return { statuses, createdFrom: time('createdTimeFrom'), createdTo: time('createdTimeTo'), prefix: url.searchParams.get('instanceIdPrefix') ?? undefined };
}

/** query answers one page; the client sends the continuation token as a header; the cursor is created time + id. */
function query(engine: DurableEngine, url: URL, token: string | null): Response {
  const top = Math.min(Number(url.searchParams.get('top') ?? DEFAULT_PAGE) || DEFAULT_PAGE, MAX_PAGE);
  const after = token ? (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { created: string; id: string }) : undefined;
  const rows = engine.store.query(filterOf(url), top + 1, after);
  const page = rows.slice(0, top);
  const headers: Record<string, string> = {};
  if (rows.length > top) {
    const last = page[page.length - 1]!;
    headers['x-ms-continuation-token'] = Buffer.from(JSON.stringify({ created: last.created_at, id: last.id })).toString('base64url');
  }
  return json(200, page.map((r) => statusOf(r, url.searchParams.get('showInput')?.toLowerCase() === 'true')), headers);
}

function purgeBy(engine: DurableEngine, url: URL): Response {
  const filter = filterOf(url);
  const terminal = ['Completed', 'Failed', 'Terminated'];
  const statuses = filter.statuses?.length ? filter.statuses.filter((s) => terminal.includes(s)) : terminal;
  let deleted = 0;
  for (; statuses.length > 0;) {
    const rows = engine.store.query({ ...filter, statuses }, MAX_PAGE);
    for (const r of rows) if (engine.purge(r.id)) deleted++;
    if (rows.length < MAX_PAGE) break;
  }
  return deleted > 0 ? json(200, { instancesDeleted: deleted }) : text(404, 'no instances matched');
}

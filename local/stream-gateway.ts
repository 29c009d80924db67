/**
 * The local stream gateway: the StreamGateway port (shared/streams/gateway.ts) on the `ws`
 * library, attached to the server that faces clients and agents — the local host's server in
 * `coracle up`, the front in `coracle up --instances N` (where the HTTP instances, like Azure's
 * HTTP functions, hold no WebSocket). It keeps each node's control connection, resolves a
 * client's stream through the API server, asks the node for a data connection and relays
 * WebSocket messages between the two, with back-pressure.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, createWebSocketStream, type RawData } from 'ws';
import { PORT_FORWARD_SPDY_PROTOCOL, PORT_FORWARD_WEBSOCKET_PROTOCOL, servePortForward } from './port-forward.js';
import { CHANNEL_PROTOCOLS } from '../shared/streams/channel.js';
import {
  STREAM_RESOLVE_HEADER, STREAM_SUBRESOURCES, STREAM_TUNNEL_PATH,
  type StreamGateway, type StreamResolver, type StreamTarget, type TunnelIdentity, type TunnelOpen,
} from '../shared/streams/gateway.js';
import type { FetchLike } from '../shared/controllers/client.js';
import type { Logger } from './logger.js';

/** LocalStreamGatewayOptions configure the gateway. */
export interface LocalStreamGatewayOptions {
  /** Asks the API server (an HTTP instance) to resolve a stream or name a tunnel's node. */
  resolve: StreamResolver;
  logger?: Logger;
  /** How long a node has to open a stream's data connection (default 10 s). */
  dialTimeoutMs?: number;
}

/** PING_INTERVAL_MS keeps idle tunnels and streams alive through proxies and load balancers that cut idle connections. */
const PING_INTERVAL_MS = 30_000;
/** Relay back-pressure: stop reading a side while the other has this much unsent. */
const HIGH_WATER = 1 << 20;
const STREAM_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/([^/]+)\/?$/;

/** resolverAt is a StreamResolver that sends the gateway's requests to the API server at `baseUrl`. */
export function resolverAt(baseUrl: () => string, fetch: FetchLike): StreamResolver {
  return (request) => {
    const url = new URL(request.url);
    return fetch(new Request(new URL(url.pathname + url.search, baseUrl()), { method: request.method, headers: request.headers }));
  };
}

/** statusText is a Status object's JSON for an answer written on a raw socket. */
function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

/** refuse answers an upgrade request with an HTTP response (a Status) and closes the socket. */
function refuse(socket: Duplex, code: number, body: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** relay sends every message of `from` to `to` unchanged, pausing `from` while `to` is behind. */
function relay(from: WebSocket, to: WebSocket): void {
  from.on('message', (data: RawData, isBinary: boolean) => {
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data, { binary: isBinary }, () => {
      if (from.isPaused && to.bufferedAmount < HIGH_WATER) from.resume();
    });
    if (to.bufferedAmount >= HIGH_WATER) from.pause();
  });
  from.once('close', (code: number, reason: Buffer) => {
    if (to.readyState === WebSocket.OPEN || to.readyState === WebSocket.CONNECTING) {
      // 1005/1006 are not codes a peer may send: end normally instead.
      to.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    }
  });
  from.once('error', () => to.terminate());
}

/** keepAlive pings a socket until it closes. */
function keepAlive(ws: WebSocket): void {
  const timer = setInterval(() => ws.ping(), PING_INTERVAL_MS);
  timer.unref();
  ws.once('close', () => clearInterval(timer));
}

interface PendingStream {
  node: string;
  accept: (ws: WebSocket) => void;
}

/** createLocalStreamGateway builds the gateway; attach it with `server.on('upgrade', gateway.handleUpgrade)`. */
export function createLocalStreamGateway(options: LocalStreamGatewayOptions): StreamGateway {
  const log = options.logger;
  const dialTimeoutMs = options.dialTimeoutMs ?? 10_000;
  const protocols = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => protocols.get(req) ?? false,
  });
  const tunnels = new Map<string, WebSocket>();
  const pending = new Map<string, PendingStream>();
  const live = new Set<WebSocket>();
  const track = (ws: WebSocket) => {
    live.add(ws);
    ws.once('close', () => live.delete(ws));
    keepAlive(ws);
  };
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> =>
    new Promise((resolve) => wss.handleUpgrade(req, socket, head, (ws) => {
      track(ws);
      resolve(ws);
    }));

  /** ask sends a request with the caller's credentials to the API server. */
  const ask = (req: IncomingMessage, path: string): Promise<Response> => {
    const headers = new Headers({ [STREAM_RESOLVE_HEADER]: '1', accept: 'application/json' });
    if (req.headers.authorization) headers.set('authorization', req.headers.authorization);
    return options.resolve(new Request(new URL(path, 'http://stream-gateway'), { method: 'POST', headers }));
  };

  /** nodeOf authenticates an agent's connection: the node its credential names, or undefined after refusing it. */
  const nodeOf = async (req: IncomingMessage, socket: Duplex): Promise<string | undefined> => {
    const answer = await ask(req, STREAM_TUNNEL_PATH);
    if (!answer.ok) {
      refuse(socket, answer.status, await answer.text());
      return undefined;
    }
    return ((await answer.json()) as TunnelIdentity).node;
  };

  const serveTunnel = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const node = await nodeOf(req, socket);
    if (node === undefined) return;
    const ws = await upgrade(req, socket, head);
    tunnels.get(node)?.close(1000, 'replaced by a newer tunnel');
    tunnels.set(node, ws);
    log?.info({ node }, 'stream tunnel open');
    ws.once('close', () => {
      if (tunnels.get(node) === ws) tunnels.delete(node);
      log?.info({ node }, 'stream tunnel closed');
    });
    ws.on('error', () => ws.terminate());
  };

  const serveData = async (req: IncomingMessage, socket: Duplex, head: Buffer, id: string) => {
    const stream = pending.get(id);
    if (!stream) return refuse(socket, 404, statusBody(404, 'NotFound', `no stream ${id} is waiting`));
    const node = await nodeOf(req, socket);
    if (node === undefined) return;
    if (node !== stream.node) return refuse(socket, 403, statusBody(403, 'Forbidden', `stream ${id} is not node ${node}'s`));
    pending.delete(id);
    const ws = await upgrade(req, socket, head);
    ws.pause(); // until the client's side is upgraded
    stream.accept(ws);
  };

  const tunnelOf = (node: string): WebSocket | undefined => {
    const tunnel = tunnels.get(node);
    return tunnel?.readyState === WebSocket.OPEN ? tunnel : undefined;
  };
  const noTunnel = (node: string) => statusBody(500, 'InternalError', `error dialing backend: node "${node}" has no stream tunnel open (hollow nodes have none; a node's agent opens it when it starts)`);

  /** dial asks the node for a data connection and resolves with it, or rejects with the Status text to answer. */
  const dial = (target: StreamTarget, protocol: string): Promise<WebSocket> => {
    const tunnel = tunnelOf(target.node);
    if (!tunnel) return Promise.reject(noTunnel(target.node));
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(statusBody(500, 'InternalError', `error dialing backend: node "${target.node}" did not open the stream within ${dialTimeoutMs / 1000} s`));
      }, dialTimeoutMs);
      pending.set(id, { node: target.node, accept: (ws) => {
        clearTimeout(timer);
        resolve(ws);
      } });
      const open: TunnelOpen = { type: 'open', id, protocol, target };
      tunnel.send(JSON.stringify(open));
    });
  };

  /** servePortForwardUpgrade accepts kubectl's port-forward, as SPDY inside a WebSocket or as plain SPDY (port-forward.ts). */
  const servePortForwardUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer, target: StreamTarget, offered: string[], isWebSocket: boolean) => {
    const dialPort = (t: StreamTarget) => dial(t, PORT_FORWARD_WEBSOCKET_PROTOCOL);
    const warn = (message: string) => log?.warn({ pod: `${target.namespace}/${target.pod}` }, message);
    if (isWebSocket && offered.includes(PORT_FORWARD_WEBSOCKET_PROTOCOL)) {
      protocols.set(req, PORT_FORWARD_WEBSOCKET_PROTOCOL);
      // `ws` refuses this subprotocol's `/` (not an RFC 7230 token; gorilla/websocket, upstream's, takes it):
      // the header is replaced by a token before the handshake, and handleProtocols answers the real name.
      req.headers['sec-websocket-protocol'] = 'portforward';
      const client = await upgrade(req, socket, head);
      return servePortForward(createWebSocketStream(client), target, dialPort, warn);
    }
    const spdy = String(req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1';
    const versions = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((v) => v.trim());
    if (!spdy || !versions.includes(PORT_FORWARD_SPDY_PROTOCOL)) {
      return refuse(socket, 400, statusBody(400, 'BadRequest', `unable to upgrade connection: port-forward is served as ${PORT_FORWARD_WEBSOCKET_PROTOCOL} over WebSocket or SPDY/3.1 with ${PORT_FORWARD_SPDY_PROTOCOL}`));
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_SPDY_PROTOCOL}\r\n\r\n`);
    if (head.length > 0) socket.unshift(head);
    servePortForward(socket, target, dialPort, warn);
  };

  const serveClient = async (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
    const isWebSocket = String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    const answer = await ask(req, url.pathname + url.search);
    if (!answer.ok) return refuse(socket, answer.status, await answer.text());
    const target = (await answer.json()) as StreamTarget;
    // Before the protocol: kubectl falls back from a refused WebSocket to SPDY, and the second answer is the one it shows.
    if (!tunnelOf(target.node)) return refuse(socket, 500, noTunnel(target.node));
    if (target.kind === 'portforward') return servePortForwardUpgrade(req, socket, head, target, offered, isWebSocket);
    const protocol = CHANNEL_PROTOCOLS.find((p) => offered.includes(p));
    if (!isWebSocket || protocol === undefined) {
      return refuse(socket, 400, statusBody(400, 'BadRequest', `unable to upgrade connection: this server speaks WebSocket with subprotocol ${CHANNEL_PROTOCOLS.join(' or ')}, not ${isWebSocket ? `[${offered.join(', ')}]` : String(req.headers.upgrade ?? 'no upgrade')}`));
    }
    let agent: WebSocket;
    try {
      agent = await dial(target, protocol);
    } catch (body) {
      return refuse(socket, 500, String(body));
    }
    protocols.set(req, protocol);
    const client = await upgrade(req, socket, head);
    relay(client, agent);
    relay(agent, client);
    agent.resume();
    log?.debug({ node: target.node, pod: `${target.namespace}/${target.pod}`, kind: target.kind }, 'stream open');
  };

  return {
    handleUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      const url = new URL(req.url ?? '/', 'http://stream-gateway');
      const work = (async () => {
        if (url.pathname === STREAM_TUNNEL_PATH) return serveTunnel(req, socket, head);
        if (url.pathname.startsWith(`${STREAM_TUNNEL_PATH}/`)) return serveData(req, socket, head, url.pathname.slice(STREAM_TUNNEL_PATH.length + 1));
        const m = STREAM_PATH.exec(url.pathname);
        if (m && STREAM_SUBRESOURCES.has(m[1]!)) return serveClient(req, socket, head, url);
        refuse(socket, 404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
      })();
      work.catch((err: unknown) => {
        log?.error({ err, path: url.pathname }, 'stream gateway: upgrade failed');
        refuse(socket, 500, statusBody(500, 'InternalError', `stream gateway: ${(err as Error).message}`));
      });
    },
    nodes: () => [...tunnels.keys()],
    async close() {
      for (const ws of live) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

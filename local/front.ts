/**
 * The front of `coracle up --instances N`: one HTTPS endpoint that spreads requests over the HTTP
 * instances round-robin, request by request (not connection by connection), as Azure's front end
 * spreads a Function App's requests over its instances. A request whose instance refuses the
 * connection (a killed or restarting instance: nothing was sent) goes to the next one; any other
 * failure reaches the client as a 502, since the request may already have been acted on.
 * Responses stream through (watches), and a client that goes away cancels the upstream request.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { StreamGateway } from '../shared/streams/gateway.js';
import { SERVER_TLS_OPTIONS } from './tls.js';

/** FrontOptions configure the front. */
export interface FrontOptions {
  /** The HTTP instances' base URLs (plain HTTP on loopback). */
  backends: readonly string[];
  port: number;
  host: string;
  tls: { key: string; cert: string };
  /** The stream gateway served on the front (the HTTP instances, like Azure's HTTP functions, hold no WebSocket); closed by stop(). */
  streams?: StreamGateway;
}

/** Front is a running front. */
export interface Front {
  port: number;
  /** How many requests each backend was sent, by base URL. */
  served(): ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

/** HOP_BY_HOP are the headers a proxy does not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function forwardedHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

/** startFront listens and resolves once it does. */
export async function startFront(options: FrontOptions): Promise<Front> {
  if (options.backends.length === 0) throw new Error('the front needs at least one HTTP instance');
  const agent = new http.Agent({ keepAlive: true });
  const served = new Map(options.backends.map((b) => [b, 0]));
  let next = 0;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, attempt: number): void => {
    const backend = options.backends[next++ % options.backends.length]!;
    served.set(backend, (served.get(backend) ?? 0) + 1);
    const upstream = http.request(new URL(req.url ?? '/', backend), {
      method: req.method, agent,
      headers: { ...forwardedHeaders(req.headers), 'content-length': String(body.length), 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress ?? '' },
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, forwardedHeaders(answer.headers));
      res.flushHeaders();
      answer.pipe(res);
      answer.once('error', () => res.destroy());
    });
    const cancel = () => upstream.destroy();
    res.once('close', cancel);
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      res.off('close', cancel);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err.code === 'ECONNREFUSED' && attempt < options.backends.length * 20) {
        // Every instance refusing (all restarting): wait a little once round the ring.
        const delay = attempt > 0 && attempt % options.backends.length === 0 ? 100 : 0;
        setTimeout(() => forward(req, res, body, attempt + 1), delay);
        return;
      }
      const status = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'ServiceUnavailable', code: 503, message: `the front could not reach an instance: ${err.message}` });
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(status) }).end(status);
    });
    upstream.end(body);
  };

  const server = https.createServer({ ...SERVER_TLS_OPTIONS, key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => forward(req, res, Buffer.concat(chunks), 0));
    req.once('error', () => res.destroy());
  });
  const streams = options.streams;
  if (streams) server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => streams.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    served: () => served,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await Promise.all([closed, streams?.close()]);
    },
  };
}

/**
 * The agent's HTTP transport: a fetch-style function (`Request` in, `Response` out) over
 * `node:https`/`node:http` with one keep-alive connection pool, trusting the cluster CA. Node's
 * global fetch cannot be given a CA without undici's dispatcher (not a dependency), and hollow
 * mode needs one bounded pool shared by every hollow node of the process.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { FetchLike } from '../shared/controllers/client.js';

/** TransportOptions configure the pool. */
export interface TransportOptions {
  /** PEM of the CA that signed the server's certificate (undefined: the system's roots). */
  caPem?: string;
  /** Most sockets open at once to the server (default 16). Watches hold one each. */
  maxSockets?: number;
}

/** Transport is a FetchLike with a way to close its pool. */
export interface Transport {
  fetch: FetchLike;
  /** close destroys the pooled sockets (open watches end). */
  close(): void;
}

function headersOf(res: http.IncomingMessage): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) for (const one of v) headers.append(k, one);
    else if (v !== undefined) headers.set(k, v);
  }
  return headers;
}

/** createTransport builds the pool and its fetch function. */
export function createTransport(options: TransportOptions = {}): Transport {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16, maxFreeSockets: 8 };
  const httpsAgent = new https.Agent({ ...agentOptions, ca: options.caPem });
  const httpAgent = new http.Agent(agentOptions);
  const fetch: FetchLike = async (request) => {
    const url = new URL(request.url);
    const secure = url.protocol === 'https:';
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((v, k) => (headers[k] = v));
    if (body) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const req = (secure ? https : http).request(url, { method: request.method, headers, agent: secure ? httpsAgent : httpAgent }, (res) => {
        const status = res.statusCode ?? 500;
        const noBody = request.method === 'HEAD' || status === 204 || status === 304;
        if (noBody) res.resume();
        resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage, headers: headersOf(res) }));
      });
      req.on('error', reject);
      const signal = request.signal;
      const abort = () => req.destroy(new DOMException('The operation was aborted', 'AbortError'));
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      req.on('close', () => signal.removeEventListener('abort', abort));
      req.end(body);
    });
  };
  return {
    fetch,
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}

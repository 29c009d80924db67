/**
 * Fetch-style handlers mounted on the local host's server beside the function routes (the
 * embedded queue server is one): a path prefix and a `(Request) => Promise<Response>`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNativeRequest, writeHttpResponse } from './http-trigger.js';

/** FetchMount is one mounted handler; it serves every path that starts with `prefix`. */
export interface FetchMount {
  prefix: string;
  handler: (request: Request) => Promise<Response>;
}

/** findMount returns the mount serving `path`, if any. */
export function findMount(mounts: readonly FetchMount[], path: string): FetchMount | undefined {
  return mounts.find((m) => path.startsWith(m.prefix));
}

/**
 * serveMount runs `mount` for one request. The request's `signal` aborts when the client goes
 * away or the host shuts down, so a long poll behind it ends instead of holding work.
 */
export async function serveMount(mount: FetchMount, req: IncomingMessage, res: ServerResponse, baseUrl: string, shutdown?: AbortSignal): Promise<void> {
  const gone = new AbortController();
  const abort = () => gone.abort();
  res.once('close', abort);
  shutdown?.addEventListener('abort', abort, { once: true });
  try {
    const native = toNativeRequest(req, baseUrl);
    const request = new Request(native, { signal: gone.signal, duplex: 'half' } as RequestInit);
    const response = await mount.handler(request);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    await writeHttpResponse({ status: response.status, headers, body: response.body ?? undefined }, res, shutdown);
  } finally {
    res.off('close', abort);
    shutdown?.removeEventListener('abort', abort);
  }
}

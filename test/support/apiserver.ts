/**
 * A harness for the API server's unit suites: the real handler on a real SQLite store in a temp
 * folder, and small helpers that build `Request`s the way kubectl sends them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../adapters/store/sqlite/index.js';
import { createApiServer, type ApiHandler, type ApiServerOptions } from '../../shared/apiserver/index.js';
import type { Store } from '../../shared/store/store.js';

/** TOKEN is the admin bearer token the harness accepts. */
export const TOKEN = 'test-admin-token';

/** Harness is a running handler over a temp SQLite store. */
export interface Harness {
  handler: ApiHandler;
  store: Store;
  /** call sends a request (JSON body unless a string is given) with the admin token. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** json sends a request and returns the status and decoded body. */
  json(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** startApiServer opens a fresh store in a temp folder and builds the handler on it (`options` may be built from the store). */
export async function startApiServer(options: Partial<ApiServerOptions> | ((store: Store) => Partial<ApiServerOptions>) = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-apiserver-'));
  const store = await openSqliteStore({ path: path.join(dir, 'store.db'), durability: 'normal', pollIntervalMs: 0 });
  const handler = createApiServer({
    store, tokens: new Map([[TOKEN, { username: 'admin', groups: ['system:masters'] }]]), ...(typeof options === 'function' ? options(store) : options),
  });
  const call = (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { authorization: `Bearer ${TOKEN}`, 'user-agent': 'kubectl/v1.35.0 (linux/amd64)', ...headers };
    let payload: string | Uint8Array | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    return handler(new Request(`https://coracle.test${p}`, { method, headers: h, body: payload as BodyInit | undefined }));
  };
  return {
    handler,
    store,
    call,
    async json(method, p, body, headers) {
      const res = await call(method, p, body, headers);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** pod builds a minimal valid Pod. */
export function pod(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] }, ...extra,
  };
}

/** deployment builds a minimal valid Deployment. */
export function deployment(name: string, replicas = 1): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  };
}

/**
 * A fixture for controller reconcile tests (sample-controller's style): the real API server on a
 * temp SQLite store, an ApiClient over it, and a record of every write the controller made, so a
 * test preloads objects, calls reconcile once, and lists the writes it expects.
 */
import { startApiServer, TOKEN, type Harness } from './apiserver.js';
import { ApiClient } from '../../shared/controllers/client.js';
import type { ControllerContext } from '../../shared/controllers/controller.js';

/** ControllerFixture is a running API server, a controller context on it, and the writes recorded. */
export interface ControllerFixture {
  harness: Harness;
  ctx: ControllerContext;
  /** takeWrites returns the writes since the last call: `METHOD path` plus, for deletes, the options given. */
  takeWrites(): string[];
  /** seed creates objects through the API (not recorded); each is `[collectionPath, object]`. Returns them as created. */
  seed(...objects: Array<[string, Record<string, unknown>]>): Promise<any[]>;
  /** get reads one object (undefined when absent). */
  get(path: string): Promise<any>;
  close(): Promise<void>;
}

function describeDelete(body: string): string {
  if (!body) return '';
  const opts = JSON.parse(body) as { propagationPolicy?: string; gracePeriodSeconds?: number };
  const parts = [];
  if (opts.propagationPolicy) parts.push(`propagationPolicy=${opts.propagationPolicy}`);
  if (opts.gracePeriodSeconds !== undefined) parts.push(`gracePeriodSeconds=${opts.gracePeriodSeconds}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

/** startControllerFixture starts the fixture; call close() when done. */
export async function startControllerFixture(now = () => new Date()): Promise<ControllerFixture> {
  const harness = await startApiServer();
  let writes: string[] = [];
  const recording = async (request: Request): Promise<Response> => {
    if (request.method !== 'GET') {
      const url = new URL(request.url);
      const body = request.method === 'DELETE' ? await request.clone().text() : '';
      writes.push(`${request.method} ${url.pathname}${request.method === 'DELETE' ? describeDelete(body) : ''}`);
    }
    return harness.handler(request);
  };
  const client = new ApiClient(recording, { baseUrl: 'https://coracle.test', token: TOKEN, userAgent: 'controller-test' });
  return {
    harness,
    ctx: { client, now },
    takeWrites() {
      const taken = writes;
      writes = [];
      return taken;
    },
    async seed(...objects) {
      const created = [];
      for (const [path, obj] of objects) {
        const res = await harness.json('POST', path, obj);
        if (res.status !== 201) throw new Error(`seeding ${path} failed: ${res.status} ${JSON.stringify(res.body)}`);
        created.push(res.body);
      }
      return created;
    },
    async get(path) {
      const res = await harness.json('GET', path);
      return res.status === 200 ? res.body : undefined;
    },
    close: () => harness.close(),
  };
}

/**
 * A fixture for controller reconcile tests (sample-controller's style): the real API server on a
 * temp SQLite store, an ApiClient over it, and a record of every write the controller made, so a
 * test preloads objects, calls reconcile once, and lists the writes it expects.
 */
import { startApiServer, TOKEN, type Harness } from './apiserver.js';
import type { ResourceType } from '../../shared/api/resources.js';
import { ApiClient } from '../../shared/controllers/client.js';
import type { ControllerContext } from '../../shared/controllers/controller.js';
import { Informer } from '../../shared/controllers/informer.js';

/** ControllerFixture is a running API server, a controller context on it, and the writes recorded. */
export interface ControllerFixture {
  harness: Harness;
  ctx: ControllerContext;
  /** takeWrites returns the writes since the last call: `METHOD path` plus, for deletes, the options given. */
  takeWrites(): string[];
  /** takeLists returns the GETs (`path?query`, watches aside) the controller made since the last call. */
  takeLists(): string[];
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

/** FixtureOptions: `informers` gives the context shared watch-fed caches, as the runtime does (functions/api.ts). */
export interface FixtureOptions {
  informers?: boolean;
}

/** startControllerFixture starts the fixture; call close() when done. */
export async function startControllerFixture(now = () => new Date(), options: FixtureOptions = {}): Promise<ControllerFixture> {
  // The informers' user gets frequent progress bookmarks, as the runtime's controllers do.
  const harness = await startApiServer(options.informers ? { watchLimits: { progressUsers: ['admin'] } } : {});
  let writes: string[] = [];
  let lists: string[] = [];
  const recording = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.method === 'GET' && url.searchParams.get('watch') !== 'true') lists.push(url.pathname + url.search);
    if (request.method !== 'GET') {
      const body = request.method === 'DELETE' ? await request.clone().text() : '';
      writes.push(`${request.method} ${url.pathname}${request.method === 'DELETE' ? describeDelete(body) : ''}`);
    }
    return harness.handler(request);
  };
  const client = new ApiClient(recording, { baseUrl: 'https://coracle.test', token: TOKEN, userAgent: 'controller-test' });
  const informers = new Map<string, Informer>();
  const informerClient = new ApiClient(harness.handler, { baseUrl: 'https://coracle.test', token: TOKEN, userAgent: 'informers' });
  const informer = (resource: ResourceType) => {
    const id = `${resource.group}/${resource.plural}`;
    let made = informers.get(id);
    if (!made) informers.set(id, (made = new Informer(informerClient, resource).start()));
    return made;
  };
  return {
    harness,
    ctx: options.informers ? { client, now, informer } : { client, now },
    takeWrites() {
      const taken = writes;
      writes = [];
      return taken;
    },
    takeLists() {
      const taken = lists;
      lists = [];
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
    async close() {
      await Promise.all([...informers.values()].map((i) => i.stop()));
      await harness.close();
    },
  };
}

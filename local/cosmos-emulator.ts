/**
 * Starts `@vercel/cosmosdb-server`, an in-memory Cosmos DB REST emulator: the store of
 * `coracle up --instances N`, and of tests and the bench (test/support/cosmos-server.ts).
 *
 * It listens over plain HTTP on 127.0.0.1 (an ephemeral port) with keep-alive, so the real
 * `@azure/cosmos` SDK talks to it without TLS; the client must set
 * `connectionPolicy.enableEndpointDiscovery = false` (see `emulatorClientOptions`).
 * What the emulator lacks (TTL, atomic batches, change feed) is listed in DESIGN.md "Emulators".
 * It keeps data in memory; given a journal file (`coracle up --instances` keeps one in its data
 * folder) every acknowledged write is also on disk and comes back on the next start
 * (local/cosmos-journal.ts).
 */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHttpServer } from '@vercel/cosmosdb-server';
import { createRequire } from 'node:module';
import { effectsOf, Journal, replay } from './cosmos-journal.js';

/**
 * keepDocumentsOnCollectionReplace: the emulator answers a container replace (a new indexing
 * policy: adapters/store/cosmos/schema.ts) by building a new, empty collection, losing every
 * document; Cosmos DB keeps them and re-indexes online. Its collection list is patched once so a
 * replace updates the collection's properties in place (its documents, partition key ranges and
 * functions stay).
 */
function keepDocumentsOnCollectionReplace(): void {
  type Entry = { _data: unknown };
  type Collections = { _data: Map<string, Entry> };
  type CollectionsProto = { replace(this: Collections, data: unknown, original: { _rid: string }): unknown; patched?: boolean };
  const collections = (createRequire(import.meta.url)('@vercel/cosmosdb-server/lib/account/collections.js') as { default: { prototype: CollectionsProto } }).default.prototype;
  if (collections.patched) return;
  // Items.replace deletes the old entry, then stores a new Collection under the same _rid.
  const replace = collections.replace;
  collections.replace = function (data, original) {
    const existing = this._data.get(original._rid);
    const result = replace.call(this, data, original);
    const fresh = this._data.get(original._rid);
    if (existing && fresh && existing !== fresh) {
      existing._data = fresh._data;
      this._data.set(original._rid, existing);
    }
    return result;
  };
  collections.patched = true;
}

/** CosmosServer is a running emulator: where to reach it, and how to stop it. */
export interface CosmosServer {
  endpoint: string;
  /** Any key is accepted; the SDK still needs a well-formed base64 one to sign requests. */
  key: string;
  /** HTTP requests the emulator received so far (what the SDK really sent, query plans included). */
  requests(): number;
  /**
   * intercept installs a hook run before the emulator sees each request; a hook that answers the
   * request itself (say, with a 429) returns true. Pass undefined to remove it.
   */
  intercept(hook: RequestHook | undefined): void;
  stop(): Promise<void>;
}

/** RequestHook may answer a request in the emulator's place (returning true when it did). */
export type RequestHook = (req: IncomingMessage, res: ServerResponse) => boolean;

/** EMULATOR_KEY is the well-known Cosmos emulator key; the emulator does not check it. */
export const EMULATOR_KEY =
  'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

/** CosmosServerOptions: `journal` is the file that keeps the data across starts (none: memory only). */
export interface CosmosServerOptions {
  journal?: string;
}

/** startCosmosServer starts an emulator on 127.0.0.1 and resolves once it listens (and has replayed its journal). */
export async function startCosmosServer(options: CosmosServerOptions = {}): Promise<CosmosServer> {
  keepDocumentsOnCollectionReplace();
  const server = createHttpServer({ keepAlive: true });
  // Node closes idle keep-alive sockets after 5 s; a client reusing one just then gets "socket
  // hang up". Keep them longer than any pause in the tests and the bench.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const emulator = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  let requests = 0;
  let hook: RequestHook | undefined;
  let journal: Journal | undefined;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    if (hook?.(req, res)) return;
    if (journal && req.method !== 'GET' && req.method !== 'HEAD') journalWrite(journal, req, res);
    for (const listener of emulator) listener.call(server, req, res);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  if (options.journal) {
    // Compacted and replayed before the endpoint is handed out: nobody else can see a partial state.
    let opened: ReturnType<typeof Journal.open> | undefined;
    try {
      opened = Journal.open(options.journal);
      await replay(endpoint, opened.state); // not journaled: the compacted file already holds it
      journal = opened.journal;
    } catch (err) {
      // A journal that cannot be read or replayed leaves nothing listening behind.
      opened?.journal.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
  }
  return {
    endpoint,
    key: EMULATOR_KEY,
    requests: () => requests,
    intercept: (next) => {
      hook = next;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => {
          journal?.close();
          journal = undefined;
          if (err) reject(err);
          else resolve();
        });
      }),
  };
}

/**
 * journalWrite records a write's effects once the emulator answers, before the answer leaves: the
 * request body is collected beside the emulator's own reader (both listen from the same tick), and
 * `res.end` appends to the journal first. A journal that cannot be written turns the answer into a 500.
 */
function journalWrite(journal: Journal, req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    const chunk = args[0];
    try {
      journal.append(effectsOf({
        method: req.method ?? '', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks), status: res.statusCode,
        response: typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : '',
      }));
    } catch (err) {
      res.statusCode = 500;
      return end(JSON.stringify({ code: 'InternalServerError', message: `the emulator's journal could not be written: ${(err as Error).message}` }));
    }
    return end(...args);
  }) as ServerResponse['end'];
}

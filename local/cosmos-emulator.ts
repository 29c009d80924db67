/**
 * Starts `@vercel/cosmosdb-server`, an in-memory Cosmos DB REST emulator: the store of
 * `coracle up --instances N`, and of tests and the bench (test/support/cosmos-server.ts).
 *
 * It listens over plain HTTP on 127.0.0.1 (an ephemeral port) with keep-alive, so the real
 * `@azure/cosmos` SDK talks to it without TLS; the client must set
 * `connectionPolicy.enableEndpointDiscovery = false` (see `emulatorClientOptions`).
 * What the emulator lacks (TTL, atomic batches, change feed) is listed in DESIGN.md "Emulators".
 */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHttpServer } from '@vercel/cosmosdb-server';

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

/** startCosmosServer starts an emulator on 127.0.0.1 and resolves once it listens. */
export async function startCosmosServer(): Promise<CosmosServer> {
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
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    if (hook?.(req, res)) return;
    for (const listener of emulator) listener.call(server, req, res);
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    key: EMULATOR_KEY,
    requests: () => requests,
    intercept: (next) => {
      hook = next;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

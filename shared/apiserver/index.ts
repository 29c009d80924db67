/**
 * The API server as a fetch-style handler: a standard `Request` in, a standard `Response` out.
 * `functions/apiserver.ts` adapts the Azure Functions HTTP trigger to it; the local host serves the
 * same function. Watch responses stream their body (a ReadableStream of JSON lines).
 */
import type { Store } from '../store/store.js';

/** ApiServerOptions are the API server's dependencies and settings. */
export interface ApiServerOptions {
  /** The cluster's store. */
  store: Store;
  /** Bearer tokens accepted, each mapped to the user it authenticates. */
  tokens: ReadonlyMap<string, { username: string; groups: readonly string[] }>;
  /** The version `/version` reports, e.g. `v1.35.0-coracle`. */
  gitVersion?: string;
}

/** ApiHandler serves one request. */
export type ApiHandler = (request: Request) => Promise<Response>;

/** createApiServer builds the handler. (Implemented in the API server issue.) */
export function createApiServer(_options: ApiServerOptions): ApiHandler {
  return async () =>
    Response.json(
      { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the API server is not built yet', reason: 'ServiceUnavailable', code: 503 },
      { status: 503 },
    );
}

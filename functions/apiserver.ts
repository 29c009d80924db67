/**
 * The Kubernetes API server as one HTTP-trigger function: every path, every method, served by
 * `createApiServer` from shared/apiserver. This file only adapts Azure's HttpRequest to a fetch
 * `Request` and the fetch `Response` back, streaming both bodies (a watch is a response body
 * that never ends on its own). Authentication is the API server's business (bearer tokens), so
 * the function itself is anonymous. The portal's static files (`/portal/`, functions/portal.ts)
 * come from the same function, so the page is served wherever the API is.
 */
import azureFunctions, { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { httpApiHandler } from './api.js';
import { isPortalPath, servePortal } from './portal.js';
import { appConfig } from './config.js';

// The library is a webpack bundle: Node cannot see its classes as named ESM exports.
const { HttpResponse } = azureFunctions;

// In Azure, streamed responses (watch) need the worker's HTTP streaming mode.
app.setup({ enableHttpStream: true });

/** toFetchRequest re-wraps an Azure HttpRequest as a fetch Request, keeping its body a stream. */
export function toFetchRequest(request: HttpRequest): Request {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null;
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: hasBody ? (request.body as unknown as ReadableStream<Uint8Array>) : undefined,
    duplex: 'half',
  } as RequestInit);
}

/** toHttpResponse wraps a fetch Response for the Functions runtime, keeping its body a stream. */
export function toHttpResponse(response: Response): InstanceType<typeof HttpResponse> {
  return new HttpResponse({
    status: response.status,
    headers: response.headers as unknown as HttpResponseInit['headers'],
    body: (response.body ?? undefined) as HttpResponseInit['body'],
  });
}

app.http('apiserver', {
  route: '{*path}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: async (request) => {
    const fetchRequest = toFetchRequest(request);
    if (isPortalPath(new URL(fetchRequest.url).pathname)) return toHttpResponse(await servePortal(fetchRequest, { oidc: appConfig().oidc }));
    return toHttpResponse(await (await httpApiHandler())(fetchRequest));
  },
});

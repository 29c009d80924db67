/**
 * The portal's static files, served by the API server's own HTTP function under `/portal/`
 * (functions/apiserver.ts sends those paths here before the API handler). They are the page
 * `npm run build` writes to dist/portal (scripts/build-portal.mjs): HTML, one script, one style
 * sheet. Nothing here needs credentials — the files hold no cluster data; the page asks the
 * Kubernetes API for everything with the user's own bearer token, as kubectl does.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** PORTAL_PATH is where the portal is served. */
export const PORTAL_PATH = '/portal';

/** PORTAL_DIR is where the built files are: dist/portal beside dist/functions. */
export const PORTAL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'portal');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

// Every asset comes from this server and the page talks to no other host: the policy says so to the browser.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** isPortalPath tells whether a request path belongs to the portal. */
export function isPortalPath(pathname: string): boolean {
  return pathname === PORTAL_PATH || pathname.startsWith(`${PORTAL_PATH}/`);
}

const notFound = (message: string, status = 404) => new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS } });

/**
 * servePortal answers a GET or HEAD of a portal path from `dir`: `/portal` redirects to
 * `/portal/`, `/portal/` is index.html, other paths are files of `dir` (never outside it). A
 * missing build answers 404 saying to run `npm run build`.
 */
export async function servePortal(request: Request, dir: string = PORTAL_DIR): Promise<Response> {
  const url = new URL(request.url);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response('method not allowed', { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' } });
  }
  if (url.pathname === PORTAL_PATH) return new Response(null, { status: 301, headers: { location: `${PORTAL_PATH}/` } });
  let relative: string;
  try {
    relative = decodeURIComponent(url.pathname.slice(PORTAL_PATH.length + 1)) || 'index.html';
  } catch {
    return notFound('bad path', 400);
  }
  const file = path.resolve(dir, relative);
  if (!file.startsWith(dir + path.sep)) return notFound('not found');
  const type = TYPES[path.extname(file)];
  if (!type) return notFound('not found');
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return relative === 'index.html' ? notFound('the portal is not built: run `npm run build`') : notFound('not found');
  }
  const headers = { 'content-type': type, 'content-length': String(body.length), ...SECURITY_HEADERS };
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
}

/**
 * The portal's static files, served by the API server's own HTTP function under `/portal/`
 * (functions/apiserver.ts sends those paths here before the API handler). They are the page
 * `npm run build` writes to dist/portal (scripts/build-portal.mjs): HTML, one script, one style
 * sheet. Nothing here needs credentials — the files hold no cluster data; the page asks the
 * Kubernetes API for everything with the user's own bearer token, as kubectl does.
 *
 * `/portal/config.json` tells the page how it may sign users in: the OIDC issuer and client id the
 * API server accepts tokens for (`--oidc-issuer-url`, `--oidc-client-id`), when one is set — public
 * values, the same a kubeconfig's exec plugin carries. The page's Content-Security-Policy then
 * also lets it reach that issuer's origin (discovery and the token endpoint: the browser is the
 * public client of the authorization code flow).
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
  '.json': 'application/json; charset=utf-8',
};

/** PortalOidc is what the page needs to sign a user in with the API's OIDC issuer (nothing secret). */
export interface PortalOidc {
  issuerURL: string;
  clientId: string;
}

/** PortalOptions say where the built files are and which OIDC issuer the API accepts (none: token sign-in only). */
export interface PortalOptions {
  dir?: string;
  oidc?: PortalOidc;
}

/**
 * securityHeaders: every asset comes from this server and the page talks to no other host but the
 * OIDC issuer, when there is one (its discovery document and token endpoint): the policy says so
 * to the browser.
 */
function securityHeaders(oidc: PortalOidc | undefined): Record<string, string> {
  const connect = oidc ? `; connect-src 'self' ${new URL(oidc.issuerURL).origin}` : '';
  return {
    'content-security-policy': `default-src 'self'${connect}; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}
const SECURITY_HEADERS = securityHeaders(undefined);

/** portalConfig is the body of `/portal/config.json`: the OIDC issuer and client id, when sign-in with them is possible. */
export function portalConfig(oidc: PortalOidc | undefined): { oidc?: PortalOidc } {
  return oidc ? { oidc: { issuerURL: oidc.issuerURL, clientId: oidc.clientId } } : {};
}

/** isPortalPath tells whether a request path belongs to the portal. */
export function isPortalPath(pathname: string): boolean {
  return pathname === PORTAL_PATH || pathname.startsWith(`${PORTAL_PATH}/`);
}

const notFound = (message: string, status = 404) => new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS } });

/**
 * servePortal answers a GET or HEAD of a portal path from `options.dir`: `/portal` redirects to
 * `/portal/`, `/portal/` is index.html, `/portal/config.json` is portalConfig, other paths are
 * files of the folder (never outside it). A missing build answers 404 saying to run `npm run build`.
 */
export async function servePortal(request: Request, options: PortalOptions = {}): Promise<Response> {
  const { dir = PORTAL_DIR, oidc } = options;
  const url = new URL(request.url);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response('method not allowed', { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' } });
  }
  if (url.pathname === PORTAL_PATH) return new Response(null, { status: 301, headers: { location: `${PORTAL_PATH}/` } });
  if (url.pathname === `${PORTAL_PATH}/config.json`) {
    const body = JSON.stringify(portalConfig(oidc));
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers: { 'content-type': TYPES['.json']!, ...securityHeaders(oidc) } });
  }
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
  const headers = { 'content-type': type, 'content-length': String(body.length), ...securityHeaders(oidc) };
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
}

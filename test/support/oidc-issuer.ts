/**
 * A small OpenID Connect issuer for tests, on plain HTTP on loopback (the API server accepts
 * `http:` issuers on loopback only), or HTTPS with a given certificate: discovery (`/.well-known/openid-configuration`), its keys
 * (`/jwks`, RS256 as Entra signs, or another algorithm; rotatable), and a token endpoint with the client credentials grant (as
 * Microsoft Entra gives an app a token for an API: `scope=<api client id>/.default` makes the
 * token's audience `<api client id>`), and the authorization code grant with PKCE for a public
 * client (a browser page, as the portal): `/authorize` signs in the user given to `allowSignIn` at
 * once, as a development IdP that auto-approves would, and redirects back with a code; the token
 * endpoint trades it (with the PKCE verifier, same client and redirect URI, once) for an id_token
 * and access token whose audience is the client id. Discovery and the token endpoint answer
 * cross-origin requests (CORS), as Entra's do for single-page apps. Tests also sign tokens directly
 * with any claims, expiry and audience (`sign`). Built on jose, as the API server's validation is:
 * only the wire shapes matter.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

/** IssuerClient is a registered client: its secret and the claims its tokens carry (besides iss, aud, iat, exp). */
export interface IssuerClient {
  secret: string;
  claims: JWTPayload;
}

/** TestIssuer is a running issuer. */
export interface TestIssuer {
  /** The issuer URL (no trailing slash): `iss` of its tokens. */
  url: string;
  /** sign makes a token with `claims`, audience `aud`, valid for `ttlSeconds` from now (negative: already expired). */
  sign(claims: JWTPayload, options: { aud: string; ttlSeconds?: number }): Promise<string>;
  /** rotateKeys replaces the signing key (the old one leaves the JWKS). */
  rotateKeys(): Promise<void>;
  /** How many tokens the token endpoint has issued. */
  issued(): number;
  /** allowSignIn registers a public client (no secret) whose sign-ins at `/authorize` return to `redirectUri` as the user with `claims`. */
  allowSignIn(clientId: string, redirectUri: string, claims: JWTPayload): void;
  stop(): Promise<void>;
}

interface Key { kid: string; privateKey: CryptoKey; jwk: JWK }

async function newKey(n: number, alg: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = `key-${n}`;
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** CORS lets a page of another origin (the portal) read discovery and call the token endpoint, as Entra allows single-page apps. */
const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': '*' };

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body)).on('error', reject);
  });
}

/** IssuerOptions tune startOidcIssuer. */
export interface IssuerOptions {
  /** Lifetime of the token endpoint's tokens (default 3600 s). */
  tokenTtlSeconds?: number;
  /** Serve HTTPS with this certificate (default: plain HTTP). */
  tls?: { cert: string; key: string };
  /** The signing algorithm (default RS256). */
  alg?: string;
}

/** startOidcIssuer runs an issuer on a free loopback port with `clients` registered (by client id). */
export async function startOidcIssuer(clients: Record<string, IssuerClient> = {}, options: IssuerOptions = {}): Promise<TestIssuer> {
  const { tokenTtlSeconds = 3600, tls, alg = 'RS256' } = options;
  let generation = 1;
  let key = await newKey(generation, alg);
  let issued = 0;
  let url = '';
  const sign = (claims: JWTPayload, options: { aud: string; ttlSeconds?: number }) => {
    const now = Math.floor(Date.now() / 1000);
    const ttl = options.ttlSeconds ?? tokenTtlSeconds;
    return new SignJWT(claims).setProtectedHeader({ alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(url).setAudience(options.aud).setIssuedAt(ttl < 0 ? now + ttl - 60 : now).setExpirationTime(now + ttl).sign(key.privateKey);
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...CORS }).end(JSON.stringify(body));
  };
  /** Public clients that may sign in (allowSignIn), and the codes handed out and not yet redeemed. */
  const publicClients = new Map<string, { redirectUri: string; claims: JWTPayload }>();
  const codes = new Map<string, { clientId: string; redirectUri: string; challenge: string; nonce?: string; expires: number }>();
  const authorize = (query: URLSearchParams, res: http.ServerResponse) => {
    const clientId = query.get('client_id') ?? '';
    const redirectUri = query.get('redirect_uri') ?? '';
    const client = publicClients.get(clientId);
    // An unknown client or redirect URI is shown to the user, never redirected to (RFC 6749 4.1.2.1).
    if (!client || client.redirectUri !== redirectUri) return json(res, 400, { error: 'invalid_request', error_description: 'unknown client_id or redirect_uri' });
    const back = new URL(redirectUri);
    const state = query.get('state');
    if (state !== null) back.searchParams.set('state', state);
    const challenge = query.get('code_challenge');
    if (query.get('response_type') !== 'code') back.searchParams.set('error', 'unsupported_response_type');
    else if (!challenge || query.get('code_challenge_method') !== 'S256') back.searchParams.set('error', 'invalid_request');
    else if (!(query.get('scope') ?? '').split(' ').includes('openid')) back.searchParams.set('error', 'invalid_scope');
    else {
      const code = randomBytes(24).toString('base64url');
      codes.set(code, { clientId, redirectUri, challenge, nonce: query.get('nonce') ?? undefined, expires: Date.now() + 60_000 });
      back.searchParams.set('code', code);
    }
    res.writeHead(302, { location: back.toString(), 'cache-control': 'no-store' }).end();
  };
  const codeGrant = async (form: URLSearchParams, res: http.ServerResponse) => {
    const code = form.get('code') ?? '';
    const grant = codes.get(code);
    codes.delete(code); // once, whatever happens
    const verifier = form.get('code_verifier') ?? '';
    const client = grant ? publicClients.get(grant.clientId) : undefined;
    if (!grant || !client || grant.expires < Date.now() || grant.clientId !== form.get('client_id') || grant.redirectUri !== form.get('redirect_uri')) {
      return json(res, 400, { error: 'invalid_grant' });
    }
    if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
    issued++;
    const idToken = await sign({ ...client.claims, ...(grant.nonce ? { nonce: grant.nonce } : {}) }, { aud: grant.clientId });
    return json(res, 200, { id_token: idToken, access_token: await sign(client.claims, { aud: grant.clientId }), token_type: 'Bearer', expires_in: tokenTtlSeconds, scope: 'openid' });
  };
  const tokenEndpoint = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('grant_type') === 'authorization_code') return codeGrant(form, res);
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id, secret] = basic ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent) : [form.get('client_id'), form.get('client_secret')];
    const client = id ? clients[id] : undefined;
    if (form.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    if (!client || client.secret !== secret) return json(res, 401, { error: 'invalid_client' });
    const scope = form.get('scope') ?? '';
    const aud = /^(\S+)\/\.default$/.exec(scope)?.[1] ?? id!;
    issued++;
    return json(res, 200, { access_token: await sign(client.claims, { aud }), token_type: 'Bearer', expires_in: tokenTtlSeconds });
  };
  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const requested = new URL(req.url ?? '/', url);
    const path = requested.pathname;
    if (req.method === 'OPTIONS') return void res.writeHead(204, CORS).end();
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer: url, jwks_uri: `${url}/jwks`, token_endpoint: `${url}/token`, authorization_endpoint: `${url}/authorize`,
        grant_types_supported: ['client_credentials', 'authorization_code'], code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'], id_token_signing_alg_values_supported: [alg],
        response_types_supported: ['code', 'token'], subject_types_supported: ['public'], scopes_supported: ['openid', 'profile', 'email'],
      });
    }
    if (req.method === 'GET' && path === '/authorize') return authorize(requested.searchParams, res);
    if (req.method === 'GET' && path === '/jwks') return json(res, 200, { keys: [key.jwk] });
    if (req.method === 'POST' && path === '/token') {
      tokenEndpoint(req, res).catch((err: unknown) => json(res, 500, { error: 'server_error', error_description: String(err) }));
      return;
    }
    json(res, 404, { error: 'not_found' });
  };
  const server = tls ? https.createServer(tls, serve) : http.createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, sign, issued: () => issued,
    allowSignIn: (clientId, redirectUri, claims) => void publicClients.set(clientId, { redirectUri, claims }),
    rotateKeys: async () => { key = await newKey(++generation, alg); },
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

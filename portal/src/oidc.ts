/**
 * Sign-in with the cluster's OIDC issuer (Microsoft Entra on Azure): the authorization code flow
 * with PKCE, the page being a public client (no secret: a browser cannot keep one). The issuer and
 * client id come from `/portal/config.json` (the API server's `--oidc-issuer-url` and
 * `--oidc-client-id`); the redirect URI is the portal's own URL. The id_token the issuer returns
 * is the bearer token, as kubectl's OIDC sign-in sends it: its audience is the client id the API
 * checks, and the API maps its claims to the user and groups RBAC authorizes — the page gets no
 * more than that user may do. Built on oauth4webapi (discovery, PKCE, state and nonce checks, the
 * code exchange and the id_token's claims validation).
 */
import * as oauth from 'oauth4webapi';

/** PortalOidc is the public sign-in configuration the control plane serves. */
export interface PortalOidc {
  issuerURL: string;
  clientId: string;
}

/** PortalConfig is `/portal/config.json`. */
export interface PortalConfig {
  oidc?: PortalOidc;
}

/** The pending sign-in's PKCE verifier, state and nonce, kept in this tab until the issuer redirects back. */
const PENDING_KEY = 'coracle.portal.oidc-pending';

/** SCOPES asks for an id_token with the user's name and email (groups come as the issuer is configured to send them). */
const SCOPES = 'openid profile email';

/** loadConfig reads the control plane's portal configuration (an older control plane without one: token sign-in only). */
export async function loadConfig(): Promise<PortalConfig> {
  const response = await fetch('./config.json', { headers: { accept: 'application/json' } });
  return response.ok ? ((await response.json()) as PortalConfig) : {};
}

/** issuerName is how the sign-in button names the issuer. */
export function issuerName(oidc: PortalOidc): string {
  const url = new URL(oidc.issuerURL);
  return url.hostname === 'login.microsoftonline.com' ? 'Microsoft Entra ID' : url.host;
}

/** redirectUri is the portal's own URL, where the issuer sends the browser back (registered with the issuer). */
export function redirectUri(): string {
  return new URL('./', location.href).href;
}

// The API server accepts an http issuer on loopback only (development); oauth4webapi refuses http unless told.
const requestOptions = (issuer: URL) => ({ [oauth.allowInsecureRequests]: issuer.protocol === 'http:' });

async function discover(issuer: URL): Promise<oauth.AuthorizationServer> {
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...requestOptions(issuer) }));
}

/** beginSignIn sends the browser to the issuer's authorization endpoint (code flow, PKCE S256, state and nonce). */
export async function beginSignIn(oidc: PortalOidc): Promise<void> {
  const issuer = new URL(oidc.issuerURL);
  const as = await discover(issuer);
  if (!as.authorization_endpoint) throw new Error(`the issuer ${oidc.issuerURL} has no authorization endpoint`);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, nonce }));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', oidc.clientId);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', SCOPES);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  location.assign(url.href);
}

/** isCallback tells whether this page load is the issuer's redirect back (a code or an error in the query). */
export function isCallback(): boolean {
  const query = new URL(location.href).searchParams;
  return query.has('code') || query.has('error');
}

/**
 * completeSignIn finishes a sign-in on the issuer's redirect back: checks the state, trades the
 * code (with the PKCE verifier) at the token endpoint, checks the id_token's issuer, audience and
 * nonce, and returns the id_token. The query leaves the address bar either way. Throws with the
 * issuer's error when it refused.
 */
export async function completeSignIn(oidc: PortalOidc): Promise<string> {
  const current = new URL(location.href);
  const pending = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, '', redirectUri());
  if (!pending) throw new Error('The sign-in was not started from this tab (or it was already completed): sign in again.');
  const { verifier, state, nonce } = JSON.parse(pending) as { verifier: string; state: string; nonce: string };
  const issuer = new URL(oidc.issuerURL);
  const as = await discover(issuer);
  const client: oauth.Client = { client_id: oidc.clientId };
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client, current, state);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      throw new Error(`The issuer refused the sign-in: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}.`, { cause: err });
    }
    throw err;
  }
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), verifier, requestOptions(issuer));
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
  if (!result.id_token) throw new Error('The issuer returned no id_token.');
  return result.id_token;
}

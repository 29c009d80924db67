/**
 * The OIDC token authenticator, as kube-apiserver's `--oidc-*` flags configure it
 * (staging/src/k8s.io/apiserver/plugin/pkg/authenticator/token/oidc): a JWT from issuer
 * `issuerURL`, signed by one of the keys its discovery document's `jwks_uri` publishes, for
 * audience `clientId`, signed with one of `signingAlgs` (RS256 by default), not expired and not before its `nbf`, becomes the user its username and
 * groups claims name, prefixed as the flags say. A token whose (unverified) `iss` is another
 * issuer is left to the other authenticators (ServiceAccount tokens are JWTs too); a token of this
 * issuer that fails any check is refused (OidcRefusal, with the reason in go-oidc's and upstream's
 * words, which a TokenReview reports), which the chain answers with 401 Unauthorized.
 *
 * Keys are fetched with jose's createRemoteJWKSet: cached, and fetched again when a token names a
 * key id the cached set lacks (the issuer rotated its keys).
 */
import { createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type FetchImplementation, type JWTPayload } from 'jose';
import type { UserInfo } from './context.js';
import { goQuotedList, InvalidToken, type TokenAuthenticator } from './tokens.js';

/** OidcConfig mirrors kube-apiserver's `--oidc-*` flags. */
export interface OidcConfig {
  /** `--oidc-issuer-url`: must equal the tokens' `iss` and the discovery document's `issuer`. */
  issuerURL: string;
  /** `--oidc-client-id`: the audience every token must carry in `aud`. */
  clientId: string;
  /** `--oidc-username-claim` (default `sub`). */
  usernameClaim?: string;
  /** `--oidc-username-prefix`: undefined defaults as upstream (see usernamePrefix); `-` means none. */
  usernamePrefix?: string;
  /** `--oidc-groups-claim`: undefined means the user gets no groups from the token. */
  groupsClaim?: string;
  /** `--oidc-groups-prefix`, prepended to every group. */
  groupsPrefix?: string;
  /** `--oidc-required-claim`: each claim must be present with exactly this (string) value. */
  requiredClaims?: Readonly<Record<string, string>>;
  /** `--oidc-ca-file`'s PEM: the CA of the issuer's serving certificate (undefined: the system roots). */
  caPem?: string;
  /** `--oidc-signing-algs`: the JWS algorithms accepted (default RS256, as upstream; Entra signs RS256). */
  signingAlgs?: readonly string[];
}

/** DEFAULT_SIGNING_ALGS is upstream's `--oidc-signing-algs` default. */
export const DEFAULT_SIGNING_ALGS: readonly string[] = ['RS256'];

/** OidcRefusal is why a token of the configured issuer is refused (the client only sees 401; a TokenReview sees the reason). */
export class OidcRefusal extends InvalidToken {
  override name = 'OidcRefusal';
}

/**
 * usernamePrefix applies upstream's defaulting: an explicit prefix wins (`-` is none); otherwise a
 * username claim other than `email` gets `<issuer>#`, so that users of two issuers never collide,
 * and `email` gets none.
 */
export function usernamePrefix(config: Pick<OidcConfig, 'issuerURL' | 'usernameClaim' | 'usernamePrefix'>): string {
  if (config.usernamePrefix === '-') return '';
  if (config.usernamePrefix !== undefined) return config.usernamePrefix;
  return (config.usernameClaim ?? 'sub') === 'email' ? '' : `${config.issuerURL}#`;
}

/**
 * userFromClaims maps a verified token's claims to the user, as upstream: the username claim must
 * be a string (and with `email`, `email_verified` must not be false); the groups claim may be a
 * string or an array of strings; every required claim must hold its value. Throws OidcRefusal.
 */
export function userFromClaims(config: OidcConfig, claims: JWTPayload): UserInfo {
  const claim = config.usernameClaim ?? 'sub';
  const username = claims[claim];
  if (typeof username !== 'string' || username === '') throw new OidcRefusal(`oidc: parse username claims "${claim}": claim not present`);
  if (claim === 'email' && claims.email_verified !== undefined && claims.email_verified !== true) {
    throw new OidcRefusal(`oidc: email not verified`);
  }
  for (const [name, value] of Object.entries(config.requiredClaims ?? {})) {
    if (claims[name] !== value) throw new OidcRefusal(`oidc: required claim ${name} value does not match. Got = ${String(claims[name])}, want = ${value}`);
  }
  let groups: string[] = [];
  if (config.groupsClaim && claims[config.groupsClaim] !== undefined) {
    const raw = claims[config.groupsClaim];
    const list = typeof raw === 'string' ? [raw] : Array.isArray(raw) && raw.every((g) => typeof g === 'string') ? (raw as string[]) : undefined;
    if (!list) throw new OidcRefusal(`oidc: parse groups claim "${config.groupsClaim}": not a string or an array of strings`);
    groups = list.map((g) => `${config.groupsPrefix ?? ''}${g}`);
  }
  return { username: `${usernamePrefix(config)}${username}`, groups };
}

/** validateOidcConfig throws when the configuration cannot work (as kube-apiserver refuses to start). */
export function validateOidcConfig(config: OidcConfig): void {
  let url: URL;
  try {
    url = new URL(config.issuerURL);
  } catch {
    throw new Error(`oidc: the issuer URL "${config.issuerURL}" is not a URL`);
  }
  // Upstream requires https; plain http is allowed on loopback only, for a test issuer.
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new Error(`oidc: the issuer URL "${config.issuerURL}" must use https`);
  if (!config.clientId) throw new Error('oidc: a client id (the required audience) is needed');
}

interface Discovered {
  issuer?: unknown;
  jwks_uri?: unknown;
}

/**
 * oidcAuthenticator authenticates JWTs from `config.issuerURL` (see the module comment). `fetch`
 * reaches the issuer (the runtime passes one that trusts `config.caPem`). Discovery happens on the
 * first token of this issuer and again after a failure.
 */
export function oidcAuthenticator(config: OidcConfig, fetchImpl: typeof fetch = fetch, now: () => Date = () => new Date()): TokenAuthenticator {
  validateOidcConfig(config);
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const discover = async () => {
    const url = `${config.issuerURL.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetchImpl(url, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new OidcRefusal(`oidc: discovery ${url}: ${res.status}`);
    const doc = (await res.json()) as Discovered;
    if (doc.issuer !== config.issuerURL) throw new OidcRefusal(`oidc: issuer did not match the issuer returned by provider, expected "${config.issuerURL}" got "${String(doc.issuer)}"`);
    if (typeof doc.jwks_uri !== 'string') throw new OidcRefusal('oidc: the discovery document has no jwks_uri');
    // No cooldown: as go-oidc's remote key set, an unknown key id fetches the keys again at once
    // (jose shares one fetch among the requests waiting for it).
    return createRemoteJWKSet(new URL(doc.jwks_uri), { cooldownDuration: 0, [customFetch]: fetchImpl as FetchImplementation });
  };
  return async (token) => {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return undefined; // not a JWT: another authenticator's
    }
    if (iss !== config.issuerURL) return undefined;
    try {
      keys ??= discover();
      const jwks = await keys.catch((err: unknown) => {
        keys = undefined;
        // The issuer could not be reached: upstream's authenticator is then not initialized yet.
        throw err instanceof OidcRefusal ? err : new OidcRefusal('oidc: authenticator not initialized');
      });
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.issuerURL, audience: config.clientId, currentDate: now(), algorithms: [...(config.signingAlgs ?? DEFAULT_SIGNING_ALGS)],
      });
      return userFromClaims(config, payload);
    } catch (err) {
      // Expired, wrong audience, bad signature, unknown key, unmapped claims: refused (401).
      throw err instanceof OidcRefusal ? err : new OidcRefusal(`oidc: verify token: ${verifyFailure(err, token, config)}`);
    }
  };
}

/** goTime renders a time as Go's time.Time `%v` does in UTC (`2026-12-01 00:00:00 +0000 UTC`). */
function goTime(seconds: unknown): string {
  return `${new Date(Number(seconds) * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '')} +0000 UTC`;
}

/** verifyFailure words a failed verification as go-oidc's IDTokenVerifier does. */
function verifyFailure(err: unknown, token: string, config: OidcConfig): string {
  const claims = decodeJwt(token);
  if (err instanceof joseErrors.JWTExpired) return `oidc: token is expired (Token Expiry: ${goTime(claims.exp)})`;
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') {
    const got = typeof claims.aud === 'string' ? [claims.aud] : claims.aud ?? [];
    return `oidc: expected audience ${JSON.stringify(config.clientId)} got ${goQuotedList(got)}`;
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') return `oidc: current time is before the nbf (not before) time: ${goTime(claims.nbf)}`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    const algs = goQuotedList(config.signingAlgs ?? DEFAULT_SIGNING_ALGS);
    return `oidc: id token signed with unsupported algorithm, expected ${algs} got ${JSON.stringify(decodeProtectedHeader(token).alg)}`;
  }
  return `failed to verify signature: ${err instanceof Error ? err.message : String(err)}`;
}

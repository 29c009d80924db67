/**
 * `coracle get-token`: a kubectl exec credential plugin (kubelogin's convention). kubectl runs it
 * with the user's `exec` entry and reads, on stdout, an `ExecCredential`
 * (`client.authentication.k8s.io/v1`) whose `status` holds the bearer token and its
 * `expirationTimestamp`; kubectl runs it again once that time has passed.
 *
 * Two ways to get the token:
 * - from an OpenID Connect issuer, non-interactively, with the client credentials grant (a CI job,
 *   a robot): openid-client discovers the token endpoint from `/.well-known/openid-configuration`.
 * - from Microsoft Entra ID with @azure/identity (`--azure`): the signed-in Azure CLI account
 *   (`az login`), or DefaultAzureCredential's chain, asked for the API app's scope `<client-id>/.default`.
 *
 * A token is kept in a cache file (readable by its owner only) until a minute before it expires,
 * so that every kubectl run does not ask the issuer again.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';

/** EXEC_CREDENTIAL_API_VERSION is the exec credential API kubectl v1.35 speaks. */
export const EXEC_CREDENTIAL_API_VERSION = 'client.authentication.k8s.io/v1';
/** CLIENT_SECRET_ENV is where get-token reads an OIDC client secret given in the kubeconfig's `env`. */
export const CLIENT_SECRET_ENV = 'CORACLE_OIDC_CLIENT_SECRET';
/** A cached token is used until this long before it expires. */
const RENEW_BEFORE_MS = 60_000;

/** GetTokenOptions are `coracle get-token`'s options. */
export interface GetTokenOptions {
  /** The OIDC issuer (client credentials grant); unset with `azure`. */
  issuerUrl?: string;
  /** The OIDC client, or with `azure` the API app's client id (the scope is `<id>/.default`). */
  clientId: string;
  /** The client secret (default: CORACLE_OIDC_CLIENT_SECRET). */
  clientSecret?: string;
  /** Scopes to ask for (space separated). */
  scope?: string;
  /** PEM file of the issuer's CA. */
  certificateAuthority?: string;
  /** Microsoft Entra ID through @azure/identity. */
  azure?: boolean;
  /** With `azure`: `azurecli` (default) or `default` (DefaultAzureCredential). */
  login?: 'azurecli' | 'default';
  /** With `azure`: the tenant to sign in to. */
  tenantId?: string;
  /** Where tokens are cached (default ~/.kube/cache/coracle). */
  tokenCacheDir?: string;
}

/** AccessToken is a token and when it expires. */
export interface AccessToken {
  token: string;
  expiresAt: Date;
}

/** execCredential is the ExecCredential kubectl reads from the plugin's stdout. */
export function execCredential(token: AccessToken): Record<string, unknown> {
  return {
    kind: 'ExecCredential', apiVersion: EXEC_CREDENTIAL_API_VERSION, spec: { interactive: false },
    status: { expirationTimestamp: token.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), token: token.token },
  };
}

/** expiryOf is when a token expires: its JWT `exp`, else `expiresInSeconds` from now. */
function expiryOf(token: string, expiresInSeconds: number | undefined, now: number): Date {
  try {
    const { exp } = decodeJwt(token);
    if (typeof exp === 'number') return new Date(exp * 1000);
  } catch {
    // An opaque token: the token endpoint's expires_in says.
  }
  return new Date(now + (expiresInSeconds ?? 300) * 1000);
}

async function oidcClientCredentials(o: GetTokenOptions): Promise<AccessToken> {
  const client = await import('openid-client');
  const secret = o.clientSecret ?? process.env[CLIENT_SECRET_ENV];
  if (!secret) throw new Error(`the client credentials grant needs a client secret (--client-secret or ${CLIENT_SECRET_ENV})`);
  const issuer = new URL(o.issuerUrl!);
  const options: Parameters<typeof client.discovery>[4] = {};
  if (issuer.protocol === 'http:') options.execute = [client.allowInsecureRequests];
  if (o.certificateAuthority) {
    const { fetchTrusting } = await import('../adapters/fetch-ca.js');
    options[client.customFetch] = (await fetchTrusting(await readFile(o.certificateAuthority, 'utf8'))) as never;
  }
  let response: Awaited<ReturnType<typeof client.clientCredentialsGrant>>;
  try {
    const config = await client.discovery(issuer, o.clientId, undefined, client.ClientSecretPost(secret), options);
    response = await client.clientCredentialsGrant(config, o.scope ? { scope: o.scope } : {});
  } catch (err) {
    // The OAuth error (invalid_client, invalid_scope…) says more than the library's message.
    const oauth = err instanceof client.ResponseBodyError ? `: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}` : '';
    throw new Error(`${issuer.href}: ${(err as Error).message}${oauth}`, { cause: err });
  }
  return { token: response.access_token, expiresAt: expiryOf(response.access_token, response.expires_in, Date.now()) };
}

async function entraToken(o: GetTokenOptions): Promise<AccessToken> {
  const { AzureCliCredential, DefaultAzureCredential } = await import('@azure/identity');
  const credential = o.login === 'default' ? new DefaultAzureCredential({ tenantId: o.tenantId }) : new AzureCliCredential({ tenantId: o.tenantId });
  const scope = o.scope ?? `${o.clientId}/.default`;
  const token = await credential.getToken(scope);
  if (!token) throw new Error(`Microsoft Entra ID gave no token for ${scope}`);
  return { token: token.token, expiresAt: new Date(token.expiresOnTimestamp) };
}

/** cacheFile is the cache file of one issuer, client, scope and login. */
function cacheFile(o: GetTokenOptions): string {
  const key = createHash('sha256').update(JSON.stringify([o.azure ? 'azure' : o.issuerUrl, o.clientId, o.scope ?? '', o.login ?? '', o.tenantId ?? ''])).digest('hex');
  return path.join(o.tokenCacheDir ?? path.join(os.homedir(), '.kube', 'cache', 'coracle'), `${key}.json`);
}

async function readCache(file: string, now: number): Promise<AccessToken | undefined> {
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as { token?: unknown; expiresAt?: unknown };
    const expiresAt = typeof cached.expiresAt === 'string' ? new Date(cached.expiresAt) : undefined;
    if (typeof cached.token !== 'string' || !expiresAt || !(expiresAt.getTime() - now > RENEW_BEFORE_MS)) return undefined;
    return { token: cached.token, expiresAt };
  } catch {
    return undefined; // absent or unreadable: ask the issuer
  }
}

/** getToken returns a token for the options: the cached one while it lasts, else a fresh one (then cached). */
export async function getToken(o: GetTokenOptions, now = Date.now()): Promise<AccessToken> {
  if (!o.azure && !o.issuerUrl) throw new Error('give --issuer-url (an OIDC issuer) or --azure (Microsoft Entra ID)');
  const file = cacheFile(o);
  const cached = await readCache(file, now);
  if (cached) return cached;
  const fresh = o.azure ? await entraToken(o) : await oidcClientCredentials(o);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify({ token: fresh.token, expiresAt: fresh.expiresAt.toISOString() }), { mode: 0o600 });
  return fresh;
}

/** getTokenArgs are the `coracle get-token` arguments that reproduce `o` (the secret excepted: it goes in `env`). */
export function getTokenArgs(o: GetTokenOptions): string[] {
  const args = ['get-token', `--client-id=${o.clientId}`];
  if (o.azure) args.push('--azure', ...(o.login ? [`--login=${o.login}`] : []), ...(o.tenantId ? [`--tenant-id=${o.tenantId}`] : []));
  else args.push(`--issuer-url=${o.issuerUrl}`);
  if (o.scope) args.push(`--scope=${o.scope}`);
  if (o.certificateAuthority) args.push(`--certificate-authority=${path.resolve(o.certificateAuthority)}`);
  if (o.tokenCacheDir) args.push(`--token-cache-dir=${path.resolve(o.tokenCacheDir)}`);
  return args;
}

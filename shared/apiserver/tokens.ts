/**
 * Credentials kept in the store: bootstrap tokens (kubeadm's, `[a-z0-9]{6}.[a-z0-9]{16}`) and the
 * node credentials they are exchanged for. Both live as Secrets in `kube-system`, and both hold
 * only a SHA-256 hash of their secret part, so reading the Secret does not give the credential.
 *
 * - A bootstrap token is the Secret `bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`,
 *   shaped as upstream's (token-id, expiration, usage-bootstrap-authentication, auth-extra-groups,
 *   description), except that `token-secret` is replaced by `token-secret-hash` (`sha256:<hex>`).
 *   It authenticates as `system:bootstrap:<id>` in `system:bootstrappers` (plus its extra groups),
 *   until its expiration (upstream's bootstrap token authenticator, plugin/pkg/auth/authenticator/token/bootstrap).
 * - A node credential is the Secret `node-credential-<node>` of type `coracle.io/node-credential`,
 *   holding the node's name and `token-hash`. Its token, `node:<node>:<secret>`, authenticates as
 *   `system:node:<node>` in `system:nodes`. One per node: issuing again replaces it, and deleting
 *   the Secret revokes it at once (the Secret is read on every request; there is no cache).
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { findResourceByKind, storageKey } from '../api/resources.js';
import { isRecord, newUid, rfc3339Now, type KubeObject } from '../api/objects.js';
import type { Store } from '../store/store.js';
import type { UserInfo } from './context.js';
import { NODES_GROUP, nodeUserName } from './authorize.js';

/**
 * TokenAuthenticator returns the user a bearer token names, or undefined when it does not know the
 * token. It may throw InvalidToken for a token it knows as its own and refuses (expired, revoked):
 * the chain then asks the next one, and a TokenReview reports the reason. It does not look at
 * audiences: the chain applies the API server's (upstream's audience-agnostic wrapper).
 */
export type TokenAuthenticator = (token: string) => UserInfo | undefined | Promise<UserInfo | undefined>;

/**
 * AudienceAwareAuthenticator checks a token against the audiences it is presented for (TokenReview's
 * `spec.audiences`; the API server's own for a request) and answers the user with those of the
 * token's audiences that are among them (upstream's audience-aware token authenticators:
 * ServiceAccount tokens). Undefined and InvalidToken as for TokenAuthenticator.
 */
export interface AudienceAwareAuthenticator {
  authenticate(token: string, audiences: readonly string[]): Promise<{ user: UserInfo; audiences: readonly string[] } | undefined>;
}

/** Authenticator is either kind of token authenticator the API server's chain asks. */
export type Authenticator = TokenAuthenticator | AudienceAwareAuthenticator;

/** goQuotedList renders strings as Go's `%q` renders a `[]string` (`["a" "b"]`), as upstream's authenticators word audiences. */
export function goQuotedList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** InvalidToken is a token refused by the authenticator it belongs to; its message is upstream's reason (a TokenReview's `status.error`). */
export class InvalidToken extends Error {
  override name = 'InvalidToken';
}

/** BOOTSTRAPPERS_GROUP is the group of every bootstrap token's user (upstream's system:bootstrappers). */
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
/** BOOTSTRAP_TOKEN_SECRET_TYPE is the type of bootstrap token Secrets. */
export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
/** NODE_CREDENTIAL_SECRET_TYPE is the type of node credential Secrets. */
export const NODE_CREDENTIAL_SECRET_TYPE = 'coracle.io/node-credential';
/** CREDENTIALS_NAMESPACE holds both kinds of Secret. */
export const CREDENTIALS_NAMESPACE = 'kube-system';
/** BOOTSTRAP_TOKEN_PATTERN is kubeadm's token format: a 6-character id, a dot, a 16-character secret. */
export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const NODE_TOKEN_PATTERN = /^node:([a-z0-9.-]{1,237}):([A-Za-z0-9_-]{43})$/;
const SECRETS = findResourceByKind('v1', 'Secret')!;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** bootstrapSecretName is the Secret of bootstrap token `id`. */
export function bootstrapSecretName(id: string): string {
  return `bootstrap-token-${id}`;
}

/** nodeCredentialSecretName is the Secret of node `nodeName`'s credential. */
export function nodeCredentialSecretName(nodeName: string): string {
  return `node-credential-${nodeName}`;
}

/** hashSecret is the stored form of a secret: `sha256:<hex>`. */
export function hashSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

/** matchesHash compares a secret with a stored hash in constant time. */
export function matchesHash(secret: string, stored: string | undefined): boolean {
  if (!stored) return false;
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** generateBootstrapToken returns a fresh `<id>.<secret>` token in kubeadm's format. */
export function generateBootstrapToken(): string {
  const pick = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

/** secretData decodes a stored Secret's `data` (base64) into strings. */
export function secretData(secret: Readonly<KubeObject>): Record<string, string> {
  const data = isRecord(secret.data) ? secret.data : {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

/** encodeData encodes Secret `data` values (undefined ones left out) as base64. */
export function encodeData(values: Record<string, string | undefined>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) data[k] = Buffer.from(v).toString('base64');
  return data;
}

/** BootstrapTokenSpec is what `coracle token create` asks for. */
export interface BootstrapTokenSpec {
  token: string;
  /** When the token stops authenticating (undefined: never). */
  expiration?: Date;
  description?: string;
  /** More groups for the token's user; each must start with `system:bootstrappers:`. */
  extraGroups?: readonly string[];
}

/**
 * bootstrapTokenSecret builds the Secret that stores a bootstrap token (hashed). It throws on a
 * token not in kubeadm's format or an extra group outside `system:bootstrappers:`.
 */
export function bootstrapTokenSecret(spec: BootstrapTokenSpec): KubeObject {
  const m = BOOTSTRAP_TOKEN_PATTERN.exec(spec.token);
  if (!m) throw new Error(`the token "${spec.token}" is not of the form [a-z0-9]{6}.[a-z0-9]{16}`);
  const bad = (spec.extraGroups ?? []).find((g) => !g.startsWith(`${BOOTSTRAPPERS_GROUP}:`));
  if (bad !== undefined) throw new Error(`the group "${bad}" does not start with ${BOOTSTRAPPERS_GROUP}:`);
  return {
    apiVersion: 'v1', kind: 'Secret', type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    metadata: { name: bootstrapSecretName(m[1]!), namespace: CREDENTIALS_NAMESPACE },
    data: encodeData({
      'token-id': m[1],
      'token-secret-hash': hashSecret(m[2]!),
      expiration: spec.expiration?.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'usage-bootstrap-authentication': 'true',
      description: spec.description,
      'auth-extra-groups': spec.extraGroups?.length ? spec.extraGroups.join(',') : undefined,
    }),
  };
}

/** readSecret reads Secret `name` of CREDENTIALS_NAMESPACE straight from the store (undefined: absent or being deleted). */
export async function readSecret(store: Store, name: string): Promise<KubeObject | undefined> {
  const kv = await store.get(storageKey(SECRETS, CREDENTIALS_NAMESPACE, name));
  if (!kv) return undefined;
  const meta = isRecord(kv.value.metadata) ? kv.value.metadata : {};
  return meta.deletionTimestamp ? undefined : kv.value;
}

/** authenticateBootstrapToken checks a bootstrap token against its Secret: type, usage, expiration, hash. */
async function authenticateBootstrapToken(store: Store, id: string, secret: string, now: Date): Promise<UserInfo | undefined> {
  const stored = await readSecret(store, bootstrapSecretName(id));
  if (!stored || stored.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return undefined;
  const data = secretData(stored);
  if (data['token-id'] !== id || data['usage-bootstrap-authentication'] !== 'true') return undefined;
  const expiration = data.expiration ? Date.parse(data.expiration) : NaN;
  if (data.expiration && !(expiration > now.getTime())) return undefined; // expired, or unreadable: refused
  if (!matchesHash(secret, data['token-secret-hash'])) return undefined;
  const extra = (data['auth-extra-groups'] ?? '').split(',').map((g) => g.trim()).filter((g) => g.startsWith(`${BOOTSTRAPPERS_GROUP}:`));
  return { username: `system:bootstrap:${id}`, groups: [BOOTSTRAPPERS_GROUP, ...extra] };
}

async function authenticateNodeToken(store: Store, nodeName: string, secret: string): Promise<UserInfo | undefined> {
  const stored = await readSecret(store, nodeCredentialSecretName(nodeName));
  if (!stored || stored.type !== NODE_CREDENTIAL_SECRET_TYPE) return undefined;
  const data = secretData(stored);
  if (data['node-name'] !== nodeName || !matchesHash(secret, data['token-hash'])) return undefined;
  return { username: nodeUserName(nodeName), groups: [NODES_GROUP] };
}

/**
 * storeTokenAuthenticator authenticates bootstrap tokens and node credentials from their Secrets
 * (one point read per request). Tokens of neither shape are left to the other authenticators.
 */
export function storeTokenAuthenticator(store: Store, now: () => Date = () => new Date()): TokenAuthenticator {
  return async (token) => {
    const bootstrap = BOOTSTRAP_TOKEN_PATTERN.exec(token);
    if (bootstrap) return authenticateBootstrapToken(store, bootstrap[1]!, bootstrap[2]!, now());
    const node = NODE_TOKEN_PATTERN.exec(token);
    if (node) return authenticateNodeToken(store, node[1]!, node[2]!);
    return undefined;
  };
}

/** isBootstrapper tells whether a user is a bootstrap token's (and not also a node or an admin). */
export function isBootstrapper(user: UserInfo): boolean {
  return user.groups.includes(BOOTSTRAPPERS_GROUP);
}

/**
 * issueNodeCredential writes node `nodeName`'s credential Secret (replacing an earlier one, which
 * stops working) and returns the new token. `issuedBy` is recorded in an annotation.
 */
export async function issueNodeCredential(store: Store, nodeName: string, issuedBy: string, now: Date): Promise<string> {
  const secret = randomBytes(32).toString('base64url');
  const key = storageKey(SECRETS, CREDENTIALS_NAMESPACE, nodeCredentialSecretName(nodeName));
  const value: KubeObject = {
    apiVersion: 'v1', kind: 'Secret', type: NODE_CREDENTIAL_SECRET_TYPE,
    metadata: {
      name: nodeCredentialSecretName(nodeName), namespace: CREDENTIALS_NAMESPACE, uid: newUid(), creationTimestamp: rfc3339Now(now),
      labels: { 'coracle.io/node': nodeName }, annotations: { 'coracle.io/issued-by': issuedBy },
    },
    data: encodeData({ 'node-name': nodeName, 'token-hash': hashSecret(secret) }),
  };
  const current = await store.get(key);
  // A replaced credential gets a new uid too: it is a new credential, not an edit of the old one.
  if (current) await store.update(key, value, current.modRevision);
  else await store.create(key, value);
  return `node:${nodeName}:${secret}`;
}

/**
 * The admin token as a break-glass credential. The cluster starts with a seed admin token (the
 * data folder's `tokens.csv` locally, the `CORACLE_ADMIN_TOKEN` app setting on Azure) that
 * authenticates as `admin` in `system:masters`. The Secret `kube-system/coracle-admin-token`
 * (type `coracle.io/admin-token`), when present, overrides it:
 *
 * - `token-hash` (`sha256:<hex>`): only the token with this hash is the admin token (rotation);
 *   the seed and every earlier token are refused from the next request on.
 * - `disabled: "true"`: no admin token is accepted at all (enable sets it back to "false").
 *
 * The Secret is read from the store on every request that presents a possible admin token (the
 * seed, or a token of the rotated shape `admin:<43 base64url chars>`), so a rotation or a disable
 * reaches every API server instance at once, with no cache to expire and no restart.
 */
import { randomBytes } from 'node:crypto';
import { rfc3339Now, type KubeObject } from '../api/objects.js';
import type { UserInfo } from './context.js';
import { CREDENTIALS_NAMESPACE, encodeData, hashSecret, matchesHash, readSecret, secretData, type TokenAuthenticator } from './tokens.js';
import type { Store } from '../store/store.js';

/** ADMIN_USER is who the admin token authenticates as. */
export const ADMIN_USER: UserInfo = { username: 'admin', groups: ['system:masters'] };
/** ADMIN_TOKEN_SECRET_NAME is the Secret (in kube-system) that rotates or disables the admin token. */
export const ADMIN_TOKEN_SECRET_NAME = 'coracle-admin-token';
/** ADMIN_TOKEN_SECRET_TYPE is that Secret's type. */
export const ADMIN_TOKEN_SECRET_TYPE = 'coracle.io/admin-token';
const ROTATED_TOKEN_PATTERN = /^admin:[A-Za-z0-9_-]{43}$/;

/** isAdminUser tells whether a static token's user is the admin (the seed admin token). */
export function isAdminUser(user: UserInfo): boolean {
  return user.username === ADMIN_USER.username && user.groups.includes('system:masters');
}

/** generateAdminToken returns a fresh admin token, `admin:<43 base64url chars>`. */
export function generateAdminToken(): string {
  return `admin:${randomBytes(32).toString('base64url')}`;
}

/** AdminTokenState is what the Secret says: the current token's hash (undefined: the seed) and whether the admin token is disabled. */
export interface AdminTokenState {
  tokenHash?: string;
  disabled: boolean;
}

/** adminTokenState reads the Secret's state from its object (undefined: no Secret, the seed rules). */
export function adminTokenState(secret: Readonly<KubeObject> | undefined): AdminTokenState | undefined {
  if (!secret || secret.type !== ADMIN_TOKEN_SECRET_TYPE) return undefined;
  const data = secretData(secret);
  return { tokenHash: data['token-hash'] || undefined, disabled: data.disabled === 'true' };
}

/** adminTokenSecret builds the Secret for `state` (`token`: the new admin token, stored hashed). */
export function adminTokenSecret(state: { token?: string; tokenHash?: string; disabled: boolean }, now: Date): KubeObject {
  const tokenHash = state.token ? hashSecret(state.token) : state.tokenHash;
  return {
    apiVersion: 'v1', kind: 'Secret', type: ADMIN_TOKEN_SECRET_TYPE,
    metadata: { name: ADMIN_TOKEN_SECRET_NAME, namespace: CREDENTIALS_NAMESPACE, annotations: { 'coracle.io/changed-at': rfc3339Now(now) } },
    data: encodeData({ 'token-hash': tokenHash, disabled: String(state.disabled) }),
  };
}

/**
 * breakGlassAuthenticator authenticates the admin token: `seeds` (the configured admin tokens)
 * until the Secret names another token or disables it, then only the token the Secret names.
 * Other tokens are left to the other authenticators without a store read.
 */
export function breakGlassAuthenticator(store: Store, seeds: ReadonlySet<string>): TokenAuthenticator {
  return async (token) => {
    const seed = seeds.has(token);
    if (!seed && !ROTATED_TOKEN_PATTERN.test(token)) return undefined;
    const state = adminTokenState(await readSecret(store, ADMIN_TOKEN_SECRET_NAME));
    if (state?.disabled) return undefined;
    if (state?.tokenHash) return matchesHash(token, state.tokenHash) ? ADMIN_USER : undefined;
    return seed ? ADMIN_USER : undefined;
  };
}

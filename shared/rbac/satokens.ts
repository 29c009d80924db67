/**
 * ServiceAccount tokens: signed, audience-bound, expiring JWTs as kube-apiserver's TokenRequest
 * issues them (pkg/serviceaccount/claims.go), signed and verified with `jose` (the npm JOSE
 * library: maintained, dependency-free, WebCrypto-based). The signing keys are kept by the control
 * plane in the store, in the Secret `kube-system/coracle-serviceaccount-signing-keys` (every API
 * server instance reads the same keys): the newest key signs, every kept key verifies, so a
 * rotation (rotateSigningKey) leaves tokens signed with the previous key valid until they expire.
 *
 * A token authenticates as `system:serviceaccount:<ns>:<name>` in `system:serviceaccounts` and
 * `system:serviceaccounts:<ns>` while it has not expired, its audience is the API server's, and
 * its ServiceAccount still exists with the uid the token was bound to (upstream's bound-object
 * check: deleting the ServiceAccount revokes its tokens at once), and, for a token bound to a Pod
 * (the `pod` in the `kubernetes.io` claim), while that Pod exists with that uid.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, decodeProtectedHeader, type JWK } from 'jose';
import { findResourceByKind, storageKey } from '../api/resources.js';
import { isRecord, newUid, rfc3339Now } from '../api/objects.js';
import { isStoreError, type Store } from '../store/store.js';
import type { ServiceAccountTokenIssuer, TokenClaims, UserInfo } from '../apiserver/context.js';
import { secretData, type TokenAuthenticator } from '../apiserver/tokens.js';
import { serviceAccountUsername } from './resolver.js';

/** DEFAULT_ISSUER is the `iss` of every token and the API server's audience (kubeadm's default `--service-account-issuer`). */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** SIGNING_KEYS_SECRET holds the signing keys, in kube-system. */
export const SIGNING_KEYS_SECRET = 'coracle-serviceaccount-signing-keys';
const KEYS_NAMESPACE = 'kube-system';
const ALG = 'ES256';
/** KEPT_KEYS: a rotation keeps the previous key for verification; older ones are dropped. */
const KEPT_KEYS = 2;
/** KEY_CACHE_MS bounds how long a verifying process keeps the keys it read (a rotation reaches every instance within it). */
const KEY_CACHE_MS = 5_000;

const SECRETS = findResourceByKind('v1', 'Secret')!;
const SERVICE_ACCOUNTS = findResourceByKind('v1', 'ServiceAccount')!;
const PODS = findResourceByKind('v1', 'Pod')!;
const KEYS_KEY = storageKey(SECRETS, KEYS_NAMESPACE, SIGNING_KEYS_SECRET);

/** StoredKey is one signing key: its id and its private JWK. */
interface StoredKey {
  kid: string;
  jwk: JWK;
}

async function newKey(): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return { kid: randomUUID(), jwk: await exportJWK(privateKey) };
}

function keysSecret(keys: StoredKey[], now: Date, uid = newUid()): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: SIGNING_KEYS_SECRET, namespace: KEYS_NAMESPACE, uid, creationTimestamp: rfc3339Now(now) },
    data: { keys: Buffer.from(JSON.stringify(keys)).toString('base64') },
  };
}

async function readKeys(store: Store): Promise<{ keys: StoredKey[]; modRevision: number; uid?: string } | undefined> {
  const kv = await store.get(KEYS_KEY);
  if (!kv) return undefined;
  const keys = JSON.parse(secretData(kv.value).keys ?? '[]') as StoredKey[];
  const uid = isRecord(kv.value.metadata) ? String(kv.value.metadata.uid ?? '') : undefined;
  return { keys, modRevision: kv.modRevision, uid };
}

/** ensureSigningKey creates the first signing key when there is none (idempotent; safe to race) and returns the keys, newest first. */
export async function ensureSigningKey(store: Store, now = new Date()): Promise<StoredKey[]> {
  const found = await readKeys(store);
  if (found && found.keys.length > 0) return found.keys;
  try {
    await store.create(KEYS_KEY, keysSecret([await newKey()], now));
  } catch (err) {
    if (!isStoreError(err, 'AlreadyExists')) throw err;
  }
  return (await readKeys(store))!.keys;
}

/** rotateSigningKey adds a new signing key (it signs from now on) and keeps the previous one for verifying the tokens it signed. */
export async function rotateSigningKey(store: Store, now = new Date()): Promise<void> {
  const current = await ensureSigningKey(store, now);
  const found = (await readKeys(store))!;
  const keys = [await newKey(), ...current].slice(0, KEPT_KEYS);
  await store.update(KEYS_KEY, keysSecret(keys, now, found.uid), found.modRevision);
}

/** ServiceAccountTokens issues and verifies ServiceAccount tokens with the store's keys. */
export class ServiceAccountTokens implements ServiceAccountTokenIssuer {
  readonly defaultAudiences: readonly string[];
  private cached?: { at: number; keys: Promise<StoredKey[]> };

  constructor(private readonly store: Store, private readonly options: { issuer?: string; audiences?: readonly string[]; now?: () => Date } = {}) {
    this.defaultAudiences = options.audiences ?? [this.issuer];
  }

  private get issuer(): string {
    return this.options.issuer ?? DEFAULT_ISSUER;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private keys(): Promise<StoredKey[]> {
    const at = Date.now();
    if (!this.cached || at - this.cached.at > KEY_CACHE_MS) {
      const keys = ensureSigningKey(this.store, this.now());
      keys.catch(() => (this.cached = undefined));
      this.cached = { at, keys };
    }
    return this.cached.keys;
  }

  /** issue signs a token for ServiceAccount `namespace/name` (uid bound, and Pod bound when `pod` is given), valid for `expirationSeconds` from `now`. */
  async issue(claims: TokenClaims): Promise<string> {
    this.cached = undefined; // sign with the newest key, even right after a rotation
    const [key] = await this.keys();
    const iat = Math.floor(claims.now.getTime() / 1000);
    const bound = claims.pod ? { pod: { name: claims.pod.name, uid: claims.pod.uid } } : {};
    return new SignJWT({ 'kubernetes.io': { namespace: claims.namespace, ...bound, serviceaccount: { name: claims.name, uid: claims.uid } } })
      .setProtectedHeader({ alg: ALG, kid: key!.kid })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUsername(claims.namespace, claims.name))
      .setAudience([...claims.audiences])
      .setIssuedAt(iat).setNotBefore(iat).setExpirationTime(iat + claims.expirationSeconds)
      .setJti(randomUUID())
      .sign(await importJWK(key!.jwk, ALG));
  }

  /** authenticator validates tokens (signature, issuer, audience, expiry, bound ServiceAccount); tokens that are not JWTs are left to the others. */
  authenticator(): TokenAuthenticator {
    return async (token) => {
      if (token.split('.').length !== 3) return undefined;
      let header;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        return undefined;
      }
      let stored = (await this.keys()).find((k) => k.kid === header.kid);
      if (!stored) {
        // Signed by a key newer than this instance's copy (another instance rotated): read the keys again.
        this.cached = undefined;
        stored = (await this.keys()).find((k) => k.kid === header.kid);
      }
      if (!stored) return undefined;
      try {
        const { payload } = await jwtVerify(token, await importJWK(publicJwk(stored.jwk), ALG), {
          issuer: this.issuer, audience: [...this.defaultAudiences], currentDate: this.now(), algorithms: [ALG],
        });
        return await this.boundUser(payload);
      } catch {
        return undefined;
      }
    };
  }

  private async boundUser(payload: Record<string, unknown>): Promise<UserInfo | undefined> {
    const k8s = isRecord(payload['kubernetes.io']) ? payload['kubernetes.io'] : {};
    const sa = isRecord(k8s.serviceaccount) ? k8s.serviceaccount : {};
    const namespace = String(k8s.namespace ?? '');
    const name = String(sa.name ?? '');
    const kv = await this.store.get(storageKey(SERVICE_ACCOUNTS, namespace, name));
    const meta = kv && isRecord(kv.value.metadata) ? kv.value.metadata : undefined;
    if (!meta || meta.uid !== sa.uid || meta.deletionTimestamp) return undefined;
    const pod = isRecord(k8s.pod) ? k8s.pod : undefined;
    if (pod && !(await this.podAlive(namespace, pod))) return undefined;
    const podExtra: Record<string, string[]> = pod ? { 'authentication.kubernetes.io/pod-name': [String(pod.name)], 'authentication.kubernetes.io/pod-uid': [String(pod.uid)] } : {};
    return {
      username: serviceAccountUsername(namespace, name),
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
      uid: String(sa.uid),
      extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${String(payload.jti ?? '')}`], ...podExtra },
    };
  }

  /** podAlive: the Pod a token is bound to still exists with the same uid and its deletion grace (if any) has not run out (upstream's validator). */
  private async podAlive(namespace: string, pod: Record<string, unknown>): Promise<boolean> {
    const kv = await this.store.get(storageKey(PODS, namespace, String(pod.name ?? '')));
    const meta = kv && isRecord(kv.value.metadata) ? kv.value.metadata : undefined;
    if (!meta || meta.uid !== pod.uid) return false;
    return typeof meta.deletionTimestamp !== 'string' || Date.parse(meta.deletionTimestamp) > this.now().getTime();
  }
}

function publicJwk(jwk: JWK): JWK {
  const { d: _d, ...pub } = jwk;
  return pub;
}

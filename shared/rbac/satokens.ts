/**
 * ServiceAccount tokens: signed, audience-bound, expiring JWTs as kube-apiserver's TokenRequest
 * issues them (pkg/serviceaccount/claims.go), signed and verified with `jose` (the npm JOSE
 * library: maintained, dependency-free, WebCrypto-based). The signing keys are kept by the control
 * plane in the store, in the Secret `kube-system/coracle-serviceaccount-signing-keys` (every API
 * server instance reads the same keys): the newest key signs, every kept key verifies, so a
 * rotation (rotateSigningKey) leaves tokens signed with the previous key valid until they expire.
 *
 * A token authenticates as `system:serviceaccount:<ns>:<name>` in `system:serviceaccounts` and
 * `system:serviceaccounts:<ns>` while it has not expired, one of its audiences is one it is
 * presented for (the API server's own, or a TokenReview's), and its ServiceAccount still exists
 * with the uid the token was bound to (upstream's bound-object check: deleting the ServiceAccount
 * revokes its tokens at once), and, for a token bound to a Pod, a Secret or a Node (the `pod`,
 * `secret` or `node` in the `kubernetes.io` claim), while that object exists with that uid. A
 * Pod-bound token also names the Pod's node (user extra `node-name`, `node-uid`), unchecked, as
 * upstream. A refused token says why in upstream's words (InvalidToken: TokenReview's status.error).
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { findResourceByKind, storageKey, type ResourceType } from '../api/resources.js';
import { isRecord, newUid, rfc3339Now } from '../api/objects.js';
import { isStoreError, type Store } from '../store/store.js';
import type { ServiceAccountTokenIssuer, TokenClaims, UserInfo } from '../apiserver/context.js';
import { goQuotedList, InvalidToken, secretData, type AudienceAwareAuthenticator } from '../apiserver/tokens.js';
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
const NODES = findResourceByKind('v1', 'Node')!;
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

  /** issue signs a token for ServiceAccount `namespace/name` (uid bound, and bound to a Pod, Secret or Node when given), valid for `expirationSeconds` from `now`. */
  async issue(claims: TokenClaims): Promise<string> {
    this.cached = undefined; // sign with the newest key, even right after a rotation
    const [key] = await this.keys();
    const iat = Math.floor(claims.now.getTime() / 1000);
    // Absent references (and a node's unknown uid) are left out: the JSON encoding drops undefined.
    const bound = { pod: claims.pod, secret: claims.secret, node: claims.node };
    return new SignJWT({ 'kubernetes.io': { namespace: claims.namespace, ...bound, serviceaccount: { name: claims.name, uid: claims.uid } } })
      .setProtectedHeader({ alg: ALG, kid: key!.kid })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUsername(claims.namespace, claims.name))
      .setAudience([...claims.audiences])
      .setIssuedAt(iat).setNotBefore(iat).setExpirationTime(iat + claims.expirationSeconds)
      .setJti(randomUUID())
      .sign(await importJWK(key!.jwk, ALG));
  }

  /**
   * authenticator validates tokens of this issuer (signature, expiry, audience, bound objects),
   * refusing them with upstream's reasons (InvalidToken); tokens of another issuer, and tokens
   * that are not JWTs, are left to the others.
   */
  authenticator(): AudienceAwareAuthenticator {
    return { authenticate: (token, audiences) => this.authenticate(token, audiences) };
  }

  private async authenticate(token: string, audiences: readonly string[]): Promise<{ user: UserInfo; audiences: readonly string[] } | undefined> {
    let header;
    try {
      if (decodeJwt(token).iss !== this.issuer) return undefined;
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
    if (!stored) return undefined; // no key to try: upstream's authenticator has no error to give either
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await importJWK(publicJwk(stored.jwk), ALG), { issuer: this.issuer, currentDate: this.now(), algorithms: [ALG] }));
    } catch (err) {
      throw new InvalidToken(verificationFailure(err));
    }
    const target = audiences.length > 0 ? audiences : this.defaultAudiences;
    const tokenAudiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud.map(String) : [];
    const accepted = tokenAudiences.filter((a) => target.includes(a));
    if (accepted.length === 0) throw new InvalidToken(`token audiences ${goQuotedList(tokenAudiences)} is invalid for the target audiences ${goQuotedList(target)}`);
    return { user: await this.boundUser(payload), audiences: accepted };
  }

  /** boundUser checks the objects a verified token is bound to (upstream's validator, pkg/serviceaccount/claims.go) and returns its user. */
  private async boundUser(payload: Record<string, unknown>): Promise<UserInfo> {
    const k8s = isRecord(payload['kubernetes.io']) ? payload['kubernetes.io'] : {};
    const ref = (v: unknown) => (isRecord(v) ? { name: String(v.name ?? ''), uid: typeof v.uid === 'string' ? v.uid : '' } : undefined);
    const sa = ref(k8s.serviceaccount) ?? { name: '', uid: '' };
    const namespace = String(k8s.namespace ?? '');
    const [pod, secret, node] = [ref(k8s.pod), ref(k8s.secret), ref(k8s.node)];
    const account = await this.boundObject(SERVICE_ACCOUNTS, namespace, sa.name);
    if (!account) throw new InvalidToken(`serviceaccounts "${sa.name}" not found`);
    if (account.deletionTimestamp) throw new InvalidToken(`service account ${namespace}/${sa.name} has been deleted`);
    if (account.uid !== sa.uid) throw new InvalidToken(`service account UID (${String(account.uid)}) does not match claim (${sa.uid})`);
    if (secret) await this.checkBound(SECRETS, namespace, secret, (uid) => `secret UID (${uid}) does not match service account secret ref claim (${secret.uid})`);
    if (pod) await this.checkBound(PODS, namespace, pod, (uid) => `pod UID (${uid}) does not match service account pod ref claim (${pod.uid})`);
    // A Pod-bound token only names the Pod's node; a Node-bound one dies with the Node.
    if (node && !pod) await this.checkBound(NODES, undefined, node, (uid) => `node UID (${uid}) does not match service account node ref claim (${node.uid})`);
    const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${String(payload.jti ?? '')}`] };
    if (pod) Object.assign(extra, { 'authentication.kubernetes.io/pod-name': [pod.name], 'authentication.kubernetes.io/pod-uid': [pod.uid] });
    if (node) {
      extra['authentication.kubernetes.io/node-name'] = [node.name];
      if (node.uid) extra['authentication.kubernetes.io/node-uid'] = [node.uid];
    }
    return { username: serviceAccountUsername(namespace, sa.name), groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`], uid: sa.uid, extra };
  }

  private async boundObject(resource: ResourceType, namespace: string | undefined, name: string): Promise<Record<string, unknown> | undefined> {
    const kv = await this.store.get(storageKey(resource, namespace, name));
    return kv && isRecord(kv.value.metadata) ? kv.value.metadata : undefined;
  }

  /**
   * checkBound: the object a token is bound to still exists, its deletion grace (if any) has not
   * run out, and it has the uid in the claim (else `mismatch` of the object's uid: upstream's message).
   */
  private async checkBound(resource: ResourceType, namespace: string | undefined, claim: { name: string; uid: string }, mismatch: (uid: string) => string): Promise<void> {
    const meta = await this.boundObject(resource, namespace, claim.name);
    const deleted = meta && typeof meta.deletionTimestamp === 'string' && Date.parse(meta.deletionTimestamp) <= this.now().getTime();
    if (!meta || deleted) throw new InvalidToken('service account token has been invalidated');
    if (meta.uid !== claim.uid) throw new InvalidToken(mismatch(String(meta.uid)));
  }
}

/** verificationFailure words a failed signature or time check as upstream's ServiceAccount authenticator does. */
function verificationFailure(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'service account token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') return 'service account token is not valid yet';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'go-jose/go-jose: error in cryptographic primitive';
  return 'service account token claims could not be validated due to unexpected validation error';
}

function publicJwk(jwk: JWK): JWK {
  const { d: _d, ...pub } = jwk;
  return pub;
}

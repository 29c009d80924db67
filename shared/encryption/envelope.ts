/**
 * Envelope encryption of stored values, as kube-apiserver's EncryptionConfiguration does with a
 * KMS v2 provider: each value is sealed with AES-256-GCM under a data key (DEK) made here, and the
 * DEK is wrapped by a key-encryption key (KEK) that never leaves its KeyEncryptionService (a key
 * file locally, Azure Key Vault in Azure; adapters/kms). The stored form carries upstream's prefix,
 * `k8s:enc:kms:v2:<provider>:`, so an encrypted value is recognisable at a glance.
 *
 * As KMS v2 does, one DEK serves many writes (a fresh one when the KEK's primary key changes, or
 * after DEK_MAX_USES writes: random 96-bit nonces stay far inside AES-GCM's 2^32 bound), so a
 * write costs no KMS call; unwrapped DEKs are cached by their wrapped form, so a read costs none
 * after the first. The storage key is the authenticated data: a value copied under another key
 * does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * KeyEncryptionService is the KEK's port (the shape of upstream's KMS v2 plugin API: Status,
 * Encrypt, Decrypt): it wraps and unwraps data keys and says which key is primary. Rotation makes
 * a new key primary; older keys keep unwrapping what they wrapped.
 */
export interface KeyEncryptionService {
  /** The provider's name, part of the stored prefix (`k8s:enc:kms:v2:<name>:`); never changes for a store. */
  readonly name: string;
  /** primaryKeyId names the KEK new data keys are wrapped with now (changes when the key rotates). */
  primaryKeyId(): Promise<string>;
  /** wrap encrypts `dataKey` under the primary KEK and names the KEK it used. */
  wrap(dataKey: Uint8Array): Promise<{ keyId: string; wrapped: Uint8Array }>;
  /** unwrap decrypts a data key that KEK `keyId` wrapped; it throws when that key is unknown or the bytes were tampered with. */
  unwrap(keyId: string, wrapped: Uint8Array): Promise<Uint8Array>;
}

/** ENCRYPTION_PREFIX begins every encrypted value's text (upstream's KMS v2 prefix). */
export const ENCRYPTION_PREFIX = 'k8s:enc:kms:v2:';

/** How many values one data key seals before a new one is made. */
const DEK_MAX_USES = 1 << 20;
/** How many unwrapped data keys are kept (each stands for up to DEK_MAX_USES values). */
const DEK_CACHE_SIZE = 256;
const FORMAT_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** EncryptedValue is the stored form of an encrypted value: one string, prefix first. */
export interface EncryptedValue {
  encrypted: string;
}

/** isEncryptedValue tells whether a stored value is an envelope (any provider's). */
export function isEncryptedValue(value: unknown): value is EncryptedValue {
  return typeof value === 'object' && value !== null && typeof (value as { encrypted?: unknown }).encrypted === 'string'
    && (value as EncryptedValue).encrypted.startsWith(ENCRYPTION_PREFIX);
}

/** DecryptionError: a stored value could not be decrypted (unknown or unavailable KEK, tampered bytes). Never answered with the ciphertext. */
export class DecryptionError extends Error {
  constructor(key: string, why: string, options?: { cause?: unknown }) {
    // Upstream's wording: "unable to transform key ..." (storage/value transformer).
    super(`unable to transform key "${key}": ${why}`, options);
    this.name = 'DecryptionError';
  }
}

interface DataKey {
  keyId: string;
  wrapped: Buffer;
  key: Buffer;
  uses: number;
}

/** Decrypted is a value read back, and the KEK its data key was wrapped with. */
export interface Decrypted {
  value: Record<string, unknown>;
  /** The KEK's id; undefined for a value stored in plain (before encryption was turned on). A rotation re-encrypts values whose KEK is not the primary one. */
  keyId?: string;
}

/**
 * EnvelopeEncryption seals and opens values with data keys wrapped by `kms`. Safe to share across
 * concurrent requests: the worst a race does is make one spare data key.
 */
export class EnvelopeEncryption {
  private current: Promise<DataKey> | undefined;
  private readonly unwrapped = new Map<string, Buffer>();

  constructor(readonly kms: KeyEncryptionService) {}

  /** encrypt seals `value` (JSON) for storage under `storageKey`. */
  async encrypt(storageKey: string, value: Record<string, unknown>): Promise<EncryptedValue> {
    const dek = await this.dataKey();
    dek.uses++;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dek.key, nonce);
    cipher.setAAD(Buffer.from(storageKey, 'utf8'));
    const sealed = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    const keyId = Buffer.from(dek.keyId, 'utf8');
    const header = Buffer.alloc(5);
    header.writeUInt8(FORMAT_VERSION, 0);
    header.writeUInt16BE(keyId.length, 1);
    header.writeUInt16BE(dek.wrapped.length, 3);
    const body = Buffer.concat([header, keyId, dek.wrapped, nonce, sealed]).toString('base64');
    return { encrypted: `${ENCRYPTION_PREFIX}${this.kms.name}:${body}` };
  }

  /**
   * decrypt opens a stored value. A value that is not an envelope (written before encryption
   * was turned on) comes back as it is; one that cannot be opened throws DecryptionError.
   */
  async decrypt(storageKey: string, stored: Record<string, unknown>): Promise<Decrypted> {
    if (!isEncryptedValue(stored)) return { value: stored };
    const text = stored.encrypted;
    const ownPrefix = `${ENCRYPTION_PREFIX}${this.kms.name}:`;
    if (!text.startsWith(ownPrefix)) {
      const provider = text.slice(ENCRYPTION_PREFIX.length).split(':')[0];
      throw new DecryptionError(storageKey, `no KMS provider "${provider}" is configured (this server's is "${this.kms.name}")`);
    }
    const parsed = parseEnvelope(storageKey, Buffer.from(text.slice(ownPrefix.length), 'base64'));
    const key = await this.unwrap(storageKey, parsed.keyId, parsed.wrapped);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parsed.nonce);
      decipher.setAAD(Buffer.from(storageKey, 'utf8'));
      decipher.setAuthTag(parsed.tag);
      const plain = Buffer.concat([decipher.update(parsed.sealed), decipher.final()]).toString('utf8');
      return { value: JSON.parse(plain) as Record<string, unknown>, keyId: parsed.keyId };
    } catch (err) {
      throw new DecryptionError(storageKey, `the value does not decrypt under its data key (tampered with, or moved from another key): ${(err as Error).message}`, { cause: err });
    }
  }

  private async unwrap(storageKey: string, keyId: string, wrapped: Buffer): Promise<Buffer> {
    const cacheKey = `${keyId}\u0000${wrapped.toString('base64')}`;
    const cached = this.unwrapped.get(cacheKey);
    if (cached) return cached;
    let key: Buffer;
    try {
      key = Buffer.from(await this.kms.unwrap(keyId, wrapped));
    } catch (err) {
      throw new DecryptionError(storageKey, `the ${this.kms.name} KMS cannot unwrap its data key with key-encryption key "${keyId}": ${(err as Error).message}`, { cause: err });
    }
    if (this.unwrapped.size >= DEK_CACHE_SIZE) this.unwrapped.delete(this.unwrapped.keys().next().value!);
    this.unwrapped.set(cacheKey, key);
    return key;
  }

  /** The data key for the next write: the current one unless the primary KEK changed or it is used up. */
  private async dataKey(): Promise<DataKey> {
    const primary = await this.kms.primaryKeyId();
    const current = await this.current?.catch(() => undefined);
    if (current && current.keyId === primary && current.uses < DEK_MAX_USES) return current;
    const next = (async () => {
      const key = randomBytes(32);
      const { keyId, wrapped } = await this.kms.wrap(key);
      return { keyId, wrapped: Buffer.from(wrapped), key, uses: 0 };
    })();
    this.current = next;
    return next;
  }
}

/** parseEnvelope splits an envelope's bytes: version, KEK id, wrapped DEK, nonce, ciphertext, tag. */
function parseEnvelope(storageKey: string, bytes: Buffer): { keyId: string; wrapped: Buffer; nonce: Buffer; sealed: Buffer; tag: Buffer } {
  const malformed = () => new DecryptionError(storageKey, 'the stored envelope is malformed');
  if (bytes.length < 5 || bytes.readUInt8(0) !== FORMAT_VERSION) throw malformed();
  const idLength = bytes.readUInt16BE(1);
  const wrappedLength = bytes.readUInt16BE(3);
  const start = 5 + idLength + wrappedLength;
  if (bytes.length < start + NONCE_BYTES + TAG_BYTES) throw malformed();
  return {
    keyId: bytes.subarray(5, 5 + idLength).toString('utf8'),
    wrapped: bytes.subarray(5 + idLength, start),
    nonce: bytes.subarray(start, start + NONCE_BYTES),
    sealed: bytes.subarray(start + NONCE_BYTES, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}

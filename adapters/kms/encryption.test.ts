import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../store/sqlite/index.js';
import { ensureKeyFile, localKms, rotateKeyFile } from './local.js';
import { DecryptionError, ENCRYPTION_PREFIX, EnvelopeEncryption, isEncryptedValue } from '../../shared/encryption/envelope.js';
import { encryptingStore, SECRETS_PREFIX } from '../../shared/encryption/encrypting-store.js';
import { describeKmsContract } from '../../shared/encryption/contract.js';
import { toApiError } from '../../shared/apiserver/respond.js';

const KEY = `${SECRETS_PREFIX}default/db`;
const SECRET = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: Buffer.from('hunter2-very-secret').toString('base64') } };

async function keyFile(): Promise<string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'coracle-kms-')), 'encryption-keys.json');
  await ensureKeyFile(file);
  return file;
}

describe('envelope encryption', () => {
  it('round-trips a value; the stored form has the KMS v2 prefix and no plaintext', async () => {
    const envelope = new EnvelopeEncryption(localKms(await keyFile()));
    const sealed = await envelope.encrypt(KEY, SECRET);
    expect(sealed.encrypted.startsWith(`${ENCRYPTION_PREFIX}local:`)).toBe(true);
    expect(JSON.stringify(sealed)).not.toContain(SECRET.data.password);
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(await envelope.decrypt(KEY, { ...sealed })).toEqual({ value: SECRET, keyId: 'key-1' });
  });

  it('creates the key file with mode 0600', async () => {
    expect(statSync(await keyFile()).mode & 0o777).toBe(0o600);
  });

  it('fails loudly on tampered ciphertext, and under another storage key', async () => {
    const envelope = new EnvelopeEncryption(localKms(await keyFile()));
    const sealed = await envelope.encrypt(KEY, SECRET);
    const bytes = Buffer.from(sealed.encrypted.slice(`${ENCRYPTION_PREFIX}local:`.length), 'base64');
    bytes[bytes.length - 20]! ^= 0x01;
    const tampered = { encrypted: `${ENCRYPTION_PREFIX}local:${bytes.toString('base64')}` };
    await expect(envelope.decrypt(KEY, tampered)).rejects.toThrow(DecryptionError);
    await expect(envelope.decrypt(`${SECRETS_PREFIX}default/other`, { ...sealed })).rejects.toThrow(/unable to transform key "\/registry\/core\/secrets\/default\/other"/);
  });

  it('fails loudly with the wrong key file, and the API answers 500 naming the key, never the ciphertext', async () => {
    const sealed = await new EnvelopeEncryption(localKms(await keyFile())).encrypt(KEY, SECRET);
    const other = new EnvelopeEncryption(localKms(await keyFile()));
    const err = await other.decrypt(KEY, { ...sealed }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptionError);
    const status = toApiError(err).toStatus();
    expect(status).toMatchObject({ code: 500, reason: 'InternalError' });
    expect(status.message).toMatch(/^Internal error occurred: unable to transform key "\/registry\/core\/secrets\/default\/db": the local KMS cannot unwrap its data key with key-encryption key "key-1"/);
    expect(status.message).not.toContain(sealed.encrypted.slice(-20));
  });

  it('reads plaintext written before encryption as it is, with no key', async () => {
    const envelope = new EnvelopeEncryption(localKms(await keyFile()));
    expect(await envelope.decrypt(KEY, SECRET)).toEqual({ value: SECRET });
  });

  it('after rotation wraps with the new key, and still decrypts what the old key sealed', async () => {
    const file = await keyFile();
    const envelope = new EnvelopeEncryption(localKms(file));
    const before = await envelope.encrypt(KEY, SECRET);
    const newKey = await rotateKeyFile(file);
    expect(newKey).toBe('key-2');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await envelope.decrypt(KEY, { ...before })).toEqual({ value: SECRET, keyId: 'key-1' });
    const after = await envelope.encrypt(KEY, SECRET);
    expect(await envelope.decrypt(KEY, { ...after })).toEqual({ value: SECRET, keyId: 'key-2' });
    // A server that starts after the rotation reads both.
    const fresh = new EnvelopeEncryption(localKms(file));
    expect((await fresh.decrypt(KEY, { ...before })).value).toEqual(SECRET);
    expect(JSON.parse(readFileSync(file, 'utf8')).primary).toBe('key-2');
  });
});

describe('encryptingStore', () => {
  it('keeps Secrets sealed in the store and plain through get, list, watch; reencrypt moves them to the primary key', async () => {
    const file = await keyFile();
    const inner = await openSqliteStore({ path: ':memory:', pollIntervalMs: 0 });
    const store = encryptingStore(inner, { kms: localKms(file) });
    try {
      const plainOld = await inner.create(`${SECRETS_PREFIX}default/old`, SECRET); // written before encryption
      const created = await store.create(KEY, SECRET);
      expect(created.value).toEqual(SECRET);
      await store.create('/registry/core/configmaps/default/c', { kind: 'ConfigMap', data: { a: '1' } });
      expect(isEncryptedValue((await inner.get(KEY))!.value)).toBe(true);
      expect((await inner.get('/registry/core/configmaps/default/c'))!.value).toEqual({ kind: 'ConfigMap', data: { a: '1' } });
      expect((await store.get(KEY))!.value).toEqual(SECRET);
      expect((await store.list(SECRETS_PREFIX)).items.map((kv) => kv.value)).toEqual([SECRET, SECRET]);
      const events = [];
      // From the plaintext one's revision: the encrypted create, then its delete.
      await store.delete(KEY);
      for await (const event of store.watch(SECRETS_PREFIX, plainOld.modRevision, { progressIntervalMs: 0 })) {
        events.push(event);
        if (events.length === 2) break;
      }
      expect(events.map((e) => [e.type, e.type !== 'progress' && e.kv.value])).toEqual([['put', SECRET], ['delete', SECRET]]);
      await store.create(KEY, SECRET);

      await rotateKeyFile(file);
      expect(await store.reencrypt()).toEqual({ rewritten: 2, current: 0 });
      expect(await store.reencrypt()).toEqual({ rewritten: 0, current: 2 });
      for (const kv of (await inner.list(SECRETS_PREFIX)).items) expect(Buffer.from((kv.value.encrypted as string).split(':')[5]!, 'base64').subarray(5, 10).toString()).toBe('key-2');
      expect((await store.list(SECRETS_PREFIX)).items.map((kv) => kv.value)).toEqual([SECRET, SECRET]);
    } finally {
      await store.close();
    }
  });
});

describeKmsContract('local key file', async () => localKms(await keyFile()));

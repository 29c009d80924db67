import { describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../adapters/store/sqlite/index.js';
import { ensureKeyFile, localKms } from '../adapters/kms/local.js';
import { encryptingStore, SECRETS_PREFIX } from '../shared/encryption/encrypting-store.js';
import { isEncryptedValue } from '../shared/encryption/envelope.js';
import type { Change } from '../shared/controllers/change.js';
import { plainChanges } from './changefeed.js';

describe('plainChanges', () => {
  it('decrypts Secrets in change feed documents as stored, and never passes on what it cannot decrypt', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'coracle-changefeed-'));
    await ensureKeyFile(path.join(dir, 'a.json'));
    await ensureKeyFile(path.join(dir, 'b.json'));
    const inner = await openSqliteStore({ path: ':memory:', pollIntervalMs: 0 });
    const store = encryptingStore(inner, { kms: localKms(path.join(dir, 'a.json')) });
    const other = encryptingStore(inner, { kms: localKms(path.join(dir, 'b.json')) });
    const key = `${SECRETS_PREFIX}default/db`;
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { p: 'c2VjcmV0' } };
    await store.create(key, secret);
    const raw = (await inner.get(key))!;
    expect(isEncryptedValue(raw.value)).toBe(true);
    const pod = { key: '/registry/core/pods/default/p', type: 'put' as const, value: { kind: 'Pod' }, revision: 1 };
    const changes: Change[] = [{ key, type: 'put', value: raw.value, revision: raw.modRevision }, pod];
    expect(await plainChanges(changes, store)).toEqual([{ key, type: 'put', value: secret, prevValue: undefined, revision: raw.modRevision }, pod]);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect((await plainChanges(changes, other))[0]!.value).toEqual({});
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/unable to transform key/);
    } finally {
      warn.mockRestore();
      await store.close();
    }
  });
});

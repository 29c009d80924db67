/**
 * The KeyEncryptionService contract suite: every KMS adapter runs it
 * (`describeKmsContract('local key file', open)`), through the port alone. Excluded from the build.
 */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { KeyEncryptionService } from './envelope.js';

/** describeKmsContract checks that `open()`'s service wraps and unwraps data keys as encryption.ts expects. */
export function describeKmsContract(name: string, open: () => Promise<KeyEncryptionService>): void {
  describe(`KeyEncryptionService contract: ${name}`, () => {
    it('unwraps what it wrapped, naming the primary key', async () => {
      const kms = await open();
      const dek = randomBytes(32);
      const { keyId, wrapped } = await kms.wrap(dek);
      expect(keyId).toBe(await kms.primaryKeyId());
      expect(Buffer.from(wrapped).equals(dek)).toBe(false);
      expect(Buffer.from(await kms.unwrap(keyId, wrapped)).equals(dek)).toBe(true);
    });

    it('refuses tampered bytes', async () => {
      const kms = await open();
      const { keyId, wrapped } = await kms.wrap(randomBytes(32));
      const tampered = Buffer.from(wrapped);
      tampered[tampered.length - 1]! ^= 0x01;
      await expect(kms.unwrap(keyId, tampered)).rejects.toThrow();
    });

    it('refuses a key it does not hold', async () => {
      const kms = await open();
      const { keyId, wrapped } = await kms.wrap(randomBytes(32));
      await expect(kms.unwrap(`${keyId}-unknown`, wrapped)).rejects.toThrow();
    });
  });
}

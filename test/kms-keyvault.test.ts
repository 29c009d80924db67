/**
 * The Azure Key Vault adapter against the KeyEncryptionService contract. It needs a real vault:
 * set CORACLE_TEST_KEYVAULT_KEY_ID (an RSA key id without a version,
 * https://<vault>.vault.azure.net/keys/<name>) and credentials DefaultAzureCredential finds (or
 * AZURE_CLIENT_ID for a managed identity). Without it the suite is skipped, and says so.
 */
import { describe, it } from '@jest/globals';
import { describeKmsContract } from '../shared/encryption/contract.js';
import { keyVaultKms } from '../adapters/kms/keyvault.js';
import { azureCredential } from '../adapters/identity.js';

const keyId = process.env.CORACLE_TEST_KEYVAULT_KEY_ID;

if (keyId) {
  describeKmsContract('Azure Key Vault', async () => keyVaultKms({ keyId, credential: await azureCredential({ clientId: process.env.AZURE_CLIENT_ID }) }));
} else {
  console.warn('Key Vault KMS contract skipped: CORACLE_TEST_KEYVAULT_KEY_ID is not set');
  describe.skip('Key Vault KMS contract (skipped: CORACLE_TEST_KEYVAULT_KEY_ID not set)', () => {
    it('runs the KeyEncryptionService contract against a real vault', () => undefined);
  });
}

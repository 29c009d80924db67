/**
 * The Azure KeyEncryptionService: an RSA key in Azure Key Vault wraps and unwraps data keys
 * (`@azure/keyvault-keys` CryptographyClient wrapKey/unwrapKey, RSA-OAEP-256), signed with the
 * app's managed identity (adapters/identity.ts). The key never leaves the vault. Its primary key
 * id is the key's newest version (read at most once a minute, as kube-apiserver polls a KMS v2
 * plugin's Status); Key Vault's own rotation (a rotation policy, or `az keyvault key rotate`) makes
 * a new version, and older versions keep unwrapping what they wrapped. The identity needs the
 * "Key Vault Crypto User" role on the key (get, wrapKey, unwrapKey).
 */
import type { TokenCredential } from '@azure/core-auth';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import type { KeyEncryptionService } from '../../shared/encryption/envelope.js';

const ALGORITHM = 'RSA-OAEP-256';
const STATUS_INTERVAL_MS = 60_000;

/** KeyVaultKmsOptions name the key and who signs. */
export interface KeyVaultKmsOptions {
  /** The key's id without a version: `https://<vault>.vault.azure.net/keys/<name>`. */
  keyId: string;
  credential: TokenCredential;
}

/** keyVaultKms is the KeyEncryptionService over Key Vault key `options.keyId`. */
export function keyVaultKms(options: KeyVaultKmsOptions): KeyEncryptionService {
  const m = /^(https:\/\/[^/]+)\/keys\/([^/]+)\/?$/.exec(options.keyId);
  if (!m) throw new Error(`CORACLE_KEYVAULT_KEY_ID="${options.keyId}" is not a Key Vault key id without a version (https://<vault>.vault.azure.net/keys/<name>)`);
  const [, vaultUrl, name] = m as unknown as [string, string, string];
  const keys = new KeyClient(vaultUrl, options.credential);
  const clients = new Map<string, CryptographyClient>();
  const client = (keyId: string) => {
    let c = clients.get(keyId);
    if (!c) clients.set(keyId, (c = new CryptographyClient(keyId, options.credential)));
    return c;
  };
  let primary: { id: string; at: number } | undefined;
  async function primaryKeyId(): Promise<string> {
    if (primary && Date.now() - primary.at < STATUS_INTERVAL_MS) return primary.id;
    const key = await keys.getKey(name);
    if (!key.id) throw new Error(`Key Vault key ${options.keyId} has no id`);
    primary = { id: key.id, at: Date.now() };
    return key.id;
  }
  return {
    name: 'azurekeyvault',
    primaryKeyId,
    async wrap(dataKey) {
      const keyId = await primaryKeyId();
      const result = await client(keyId).wrapKey(ALGORITHM, dataKey);
      return { keyId: result.keyID ?? keyId, wrapped: result.result };
    },
    async unwrap(keyId, wrapped) {
      if (!keyId.startsWith(`${vaultUrl}/keys/${name}/`)) throw new Error(`key "${keyId}" is not a version of ${options.keyId}`);
      return (await client(keyId).unwrapKey(ALGORITHM, wrapped)).result;
    },
  };
}

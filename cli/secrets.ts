/**
 * `coracle secrets rotate`: a new key-encryption key becomes primary, then every Secret is
 * re-encrypted under it (kube-apiserver's documented rotation, done in one step). Older keys stay
 * in the key file, so a Secret that a server wrote with one of them meanwhile still reads; running
 * it again re-encrypts those too.
 *
 * Locally (`--data-dir`): the data folder's key file gets the new key, and the store is rewritten in
 * place, each Secret by compare-and-swap: the SQLite file (which several processes may share while
 * the cluster runs), or the Azure-shaped mode's Cosmos DB emulator while that cluster runs. In Azure (no `--data-dir`: the settings come from the environment, as the
 * Function App's): Key Vault makes new key versions itself (`az keyvault key rotate`, or its rotation
 * policy), so this only re-encrypts under the newest version.
 */
import path from 'node:path';
import { Command } from 'commander';
import { readAppConfig, type Settings } from '../functions/config.js';
import type { EncryptingStore } from '../shared/encryption/encrypting-store.js';
import { rotateKeyFile } from '../adapters/kms/local.js';
import { readTextIfExists } from '../local/files.js';
import { securitySettings, STORE_SETTINGS_FILE } from './data-dir.js';

/** RotateResult is what a rotation did. */
export interface RotateResult {
  /** The new primary key's id (undefined: the key service rotates its own keys, as Key Vault does). */
  newKey?: string;
  rewritten: number;
  current: number;
}

/** rotateSecrets rotates the key file the settings name (if any) and re-encrypts every Secret of the settings' store. */
export async function rotateSecrets(settings: Settings): Promise<RotateResult> {
  const config = readAppConfig(settings);
  if (!config.encryption) throw new Error('no encryption at rest is configured: set CORACLE_ENCRYPTION_KEY_FILE or CORACLE_KEYVAULT_KEY_ID (or pass --data-dir)');
  const newKey = config.encryption.kind === 'keyfile' ? await rotateKeyFile(config.encryption.file) : undefined;
  // Imported here: functions/runtime.ts loads @azure/functions, which must not load before `coracle up`'s host provides its registration shim.
  const { openStore } = await import('../functions/runtime.js');
  const store = (await openStore(config.store, config.cluster, config.encryption)) as EncryptingStore;
  try {
    return { newKey, ...(await store.reencrypt()) };
  } finally {
    await store.close();
  }
}

/**
 * localClusterSettings are the store and key settings of the local cluster in data folder
 * `dataDir`: its SQLite file, or, while an Azure-shaped cluster runs there, its Cosmos DB
 * emulator (STORE_SETTINGS_FILE).
 */
export async function localClusterSettings(dataDir: string): Promise<Settings> {
  const dir = path.resolve(dataDir);
  const running = await readTextIfExists(path.join(dir, STORE_SETTINGS_FILE));
  const store: Settings = running ? (JSON.parse(running) as Settings) : { CORACLE_STORE: `sqlite:${path.join(dir, 'coracle.db')}` };
  return { ...store, CORACLE_ENCRYPTION_KEY_FILE: securitySettings(dir).CORACLE_ENCRYPTION_KEY_FILE };
}

/** secretsCommand is `coracle secrets`. */
export function secretsCommand(fail: (err: unknown) => never): Command {
  const secrets = new Command('secrets').description('Secrets encrypted at rest');
  secrets.command('rotate').description('make a new key-encryption key primary and re-encrypt every Secret under it')
    .option('--data-dir <dir>', 'the local cluster\'s data folder (default: the store and key settings of the environment, as in Azure)')
    .action((o: { dataDir?: string }) => (o.dataDir ? localClusterSettings(o.dataDir) : Promise.resolve(process.env)).then(rotateSecrets).then((r) => {
      process.stdout.write(`${r.newKey ? `new primary key ${r.newKey}; ` : ''}${r.rewritten} Secrets re-encrypted, ${r.current} already under the primary key\n`);
    }, fail));
  return secrets;
}

/**
 * The local KeyEncryptionService: key-encryption keys in a key file of the data folder (mode
 * 0600, only its owner may read it), each a random AES-256 key that wraps data keys with
 * AES-256-GCM. The file lists every key ever made and names the primary one:
 *
 *   { "primary": "key-2", "keys": [ { "id": "key-1", "key": "<base64>", "created": "…" }, … ] }
 *
 * `rotateKeyFile` adds a key and makes it primary; a running server notices (it re-reads the file
 * when it changes) and wraps new data keys with it, and older keys still unwrap what they wrapped.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, link, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { readTextIfExists } from '../../local/files.js';
import type { KeyEncryptionService } from '../../shared/encryption/envelope.js';

/** KeyFile is the key file's content. */
export interface KeyFile {
  primary: string;
  keys: { id: string; key: string; created: string }[];
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function parseKeyFile(file: string, text: string): KeyFile {
  let parsed: KeyFile;
  try {
    parsed = JSON.parse(text) as KeyFile;
  } catch (err) {
    throw new Error(`${file}: the encryption key file is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(parsed.keys) || !parsed.keys.some((k) => k.id === parsed.primary)) throw new Error(`${file}: the encryption key file names no primary key among its keys`);
  for (const k of parsed.keys) {
    if (typeof k.id !== 'string' || Buffer.from(String(k.key), 'base64').length !== 32) throw new Error(`${file}: key "${k.id}" is not a 256-bit key`);
  }
  return parsed;
}

async function writeKeyFile(file: string, content: KeyFile): Promise<void> {
  // A new file in place of the old (rename is atomic): a reader sees the old keys or the new, never half.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}

function newKey(keys: readonly { id: string }[]): { id: string; key: string; created: string } {
  const taken = new Set(keys.map((k) => k.id));
  let n = keys.length + 1;
  while (taken.has(`key-${n}`)) n++;
  return { id: `key-${n}`, key: randomBytes(32).toString('base64'), created: new Date().toISOString() };
}

/** ensureKeyFile creates the key file (mode 0600, one key) when absent; an existing one is checked, never replaced. */
export async function ensureKeyFile(file: string): Promise<void> {
  const text = await readTextIfExists(file);
  if (text !== undefined) {
    parseKeyFile(file, text);
    await chmod(file, 0o600);
    return;
  }
  const key = newKey([]);
  // Linked into place, never renamed over: of processes racing to create it, one wins and the others read its keys.
  const temp = `${file}.${process.pid}.new`;
  await writeFile(temp, `${JSON.stringify({ primary: key.id, keys: [key] } satisfies KeyFile, null, 2)}\n`, { mode: 0o600 });
  try {
    await link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(temp);
  }
}

/** rotateKeyFile adds a fresh key to the key file and makes it primary; resolves with its id. */
export async function rotateKeyFile(file: string): Promise<string> {
  const text = await readTextIfExists(file);
  if (text === undefined) throw new Error(`${file}: no encryption key file to rotate`);
  const content = parseKeyFile(file, text);
  const key = newKey(content.keys);
  await writeKeyFile(file, { primary: key.id, keys: [...content.keys, key] });
  return key.id;
}

/**
 * localKms is the KeyEncryptionService over key file `file` (created by ensureKeyFile). It re-reads
 * the file when its modification time or size changes, so a rotation reaches a running server.
 */
export function localKms(file: string): KeyEncryptionService {
  let loaded: { stamp: string; primary: string; keys: Map<string, Buffer> } | undefined;
  async function keys(): Promise<NonNullable<typeof loaded>> {
    const info = await stat(file).catch((err: unknown) => {
      throw new Error(`${file}: the encryption key file cannot be read: ${(err as Error).message}`, { cause: err });
    });
    const stamp = `${info.mtimeMs}:${info.size}:${info.ino}`;
    if (loaded?.stamp === stamp) return loaded;
    const text = await readTextIfExists(file);
    if (text === undefined) throw new Error(`${file}: the encryption key file is missing`);
    const content = parseKeyFile(file, text);
    loaded = { stamp, primary: content.primary, keys: new Map(content.keys.map((k) => [k.id, Buffer.from(k.key, 'base64')])) };
    return loaded;
  }
  return {
    name: 'local',
    primaryKeyId: async () => (await keys()).primary,
    async wrap(dataKey) {
      const { primary, keys: all } = await keys();
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', all.get(primary)!, nonce);
      const wrapped = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
      return { keyId: primary, wrapped };
    },
    async unwrap(keyId, wrapped) {
      const kek = (await keys()).keys.get(keyId);
      if (!kek) throw new Error(`key "${keyId}" is not in ${file}`);
      const bytes = Buffer.from(wrapped);
      const decipher = createDecipheriv('aes-256-gcm', kek, bytes.subarray(0, NONCE_BYTES));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    },
  };
}

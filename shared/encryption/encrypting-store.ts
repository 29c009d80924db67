/**
 * A Store that encrypts the values under some prefixes (Secrets) on the way in and decrypts them on
 * the way out, around any adapter: the place upstream's storage transformers sit (between the
 * registry and etcd), so SQLite and Cosmos DB both keep only ciphertext, and gets, lists and
 * watch events all carry the plain object. A value written before encryption was turned on reads
 * as it is; one that cannot be decrypted fails the read loudly (DecryptionError, answered 500),
 * never handing back the ciphertext as data.
 */
import { isStoreError, type KeyValue, type ListOptions, type ListResult, type Store, type StoredValue, type WatchEvent, type WatchOptions } from '../store/store.js';
import { EnvelopeEncryption, type KeyEncryptionService } from './envelope.js';

/** SECRETS_PREFIX is where Secrets are stored (shared/api/resources.ts storageKey). */
export const SECRETS_PREFIX = '/registry/core/secrets/';

/** EncryptingStoreOptions choose what to encrypt and with which keys. */
export interface EncryptingStoreOptions {
  /** The KEK's service (adapters/kms). */
  kms: KeyEncryptionService;
  /** Key prefixes whose values are encrypted (default: Secrets only, as upstream's usual configuration). */
  prefixes?: readonly string[];
}

/** EncryptingStore is a Store whose chosen values are encrypted at rest; `reencrypt` serves key rotation. */
export interface EncryptingStore extends Store {
  /**
   * reencrypt rewrites every value under the encrypted prefixes that is not sealed under the
   * primary KEK (older KEKs, or plaintext from before encryption), with compare-and-swap (a value
   * changed meanwhile is re-read and retried). Resolves with how many were rewritten and how many
   * were already current.
   */
  reencrypt(): Promise<{ rewritten: number; current: number }>;
  /**
   * plain decrypts one stored value read some other way (the Cosmos DB change feed's documents),
   * as get would; values not under the encrypted prefixes, or not encrypted, come back as they are.
   */
  plain(key: string, value: StoredValue): Promise<StoredValue>;
}

/** isEncryptingStore tells whether `store` encrypts values at rest (then its `plain` decrypts change feed values). */
export function isEncryptingStore(store: Store): store is EncryptingStore {
  return typeof (store as Partial<EncryptingStore>).reencrypt === 'function' && typeof (store as Partial<EncryptingStore>).plain === 'function';
}

/** encryptingStore wraps `inner` so values under `options.prefixes` are encrypted at rest. */
export function encryptingStore(inner: Store, options: EncryptingStoreOptions): EncryptingStore {
  const envelope = new EnvelopeEncryption(options.kms);
  const prefixes = options.prefixes ?? [SECRETS_PREFIX];
  const covered = (key: string) => prefixes.some((p) => key.startsWith(p));
  const seal = async (key: string, value: StoredValue): Promise<StoredValue> => (covered(key) ? { ...(await envelope.encrypt(key, value)) } : value);
  const open = async (kv: KeyValue): Promise<KeyValue> => {
    if (!covered(kv.key)) return kv;
    // A new KeyValue: never the adapter's (which may be shared among watchers), and without its `json` text.
    const { value } = await envelope.decrypt(kv.key, kv.value);
    return plain(kv, value);
  };
  const openEvent = async (event: WatchEvent): Promise<WatchEvent> => {
    if (event.type === 'progress' || !covered(event.kv.key)) return event;
    const kv = await open(event.kv);
    if (event.type === 'delete') return { type: 'delete', kv, prev: await open(event.prev) };
    return event.prev ? { type: 'put', kv, prev: await open(event.prev) } : { type: 'put', kv };
  };
  // Writes answer with the plain value the caller gave, not the sealed one the adapter echoes.
  function plain(kv: KeyValue, value: StoredValue): KeyValue {
    const result: KeyValue = { key: kv.key, value, modRevision: kv.modRevision, createRevision: kv.createRevision };
    if (kv.requestId !== undefined) result.requestId = kv.requestId;
    return result;
  }

  async function reencryptOne(kv: KeyValue): Promise<boolean> {
    for (let current: KeyValue | undefined = kv; current; current = await inner.get(kv.key)) {
      const { value, keyId } = await envelope.decrypt(current.key, current.value);
      if (keyId !== undefined && keyId === (await options.kms.primaryKeyId())) return false;
      try {
        await inner.update(current.key, await seal(current.key, value), current.modRevision);
        return true;
      } catch (err) {
        if (!isStoreError(err, 'Conflict')) throw err;
      }
    }
    return false; // deleted meanwhile
  }

  return {
    currentRevision: () => inner.currentRevision(),
    compactedRevision: () => inner.compactedRevision(),
    count: (prefix) => inner.count(prefix),
    compact: (revision) => inner.compact(revision),
    close: () => inner.close(),
    async get(key, getOptions) {
      const kv = await inner.get(key, getOptions);
      return kv && open(kv);
    },
    async list(prefix: string, listOptions?: ListOptions): Promise<ListResult> {
      const result = await inner.list(prefix, listOptions);
      if (!result.items.some((kv) => covered(kv.key))) return result;
      return { ...result, items: await Promise.all(result.items.map(open)) };
    },
    async create(key, value, writeOptions) {
      return plain(await inner.create(key, await seal(key, value), writeOptions), value);
    },
    async update(key, value, expectedModRevision, writeOptions) {
      return plain(await inner.update(key, await seal(key, value), expectedModRevision, writeOptions), value);
    },
    async delete(key, expectedModRevision, writeOptions) {
      return open(await inner.delete(key, expectedModRevision, writeOptions));
    },
    watch(prefix: string, fromRevision: number, watchOptions?: WatchOptions): AsyncIterable<WatchEvent> {
      // A watch that cannot see an encrypted key (pods, leases: nearly all) is the adapter's own, with no extra step per event.
      if (!prefixes.some((p) => p.startsWith(prefix) || prefix.startsWith(p))) return inner.watch(prefix, fromRevision, watchOptions);
      return (async function* () {
        for await (const event of inner.watch(prefix, fromRevision, watchOptions)) yield await openEvent(event);
      })();
    },
    plain: async (key, value) => (covered(key) ? (await envelope.decrypt(key, value)).value : value),
    async reencrypt() {
      let rewritten = 0;
      let current = 0;
      for (const prefix of prefixes) {
        let startAfter: string | undefined;
        for (;;) {
          const page = await inner.list(prefix, { limit: 500, startAfter, countRemaining: false });
          for (const kv of page.items) {
            if (await reencryptOne(kv)) rewritten++;
            else current++;
          }
          if (!page.more) break;
          startAfter = page.items[page.items.length - 1]!.key;
        }
      }
      return { rewritten, current };
    },
  };
}

/**
 * What the store benchmark drives: a BenchTarget is the small part of a store the workloads use,
 * so a Store adapter and etcd (over its HTTP gateway) run exactly the same workload.
 */
import type { Store, StoredValue } from '../shared/store/store.js';

/** BenchTarget is one backend under test. */
export interface BenchTarget {
  /** create stores a new key (create-if-absent), resolving once acknowledged. */
  create(key: string, value: StoredValue): Promise<void>;
  /** list reads every key under `prefix` with its decoded value; returns how many. */
  list(prefix: string): Promise<number>;
  /** watch calls `onPut` with the value of every later put under `prefix`; resolves once watching. */
  watch(prefix: string, onPut: (value: StoredValue) => void, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** BenchStoreEntry is a Store adapter the benchmark can open fresh (and empty) and throw away. */
export interface BenchStoreEntry {
  name: string;
  open(): Promise<{ store: Store; destroy: () => Promise<void> }>;
}

/** storeTarget drives a Store through the port. */
export function storeTarget(store: Store, destroy: () => Promise<void>): BenchTarget {
  return {
    create: async (key, value) => {
      await store.create(key, value);
    },
    list: async (prefix) => (await store.list(prefix)).items.length,
    watch: async (prefix, onPut, signal) => {
      // Revision 0 is fixed when watch is called: every later put is seen.
      const events = store.watch(prefix, 0, { signal, progressIntervalMs: 0 });
      void (async () => {
        try {
          for await (const e of events) if (e.type === 'put') onPut(e.kv.value);
        } catch (err) {
          if (!signal.aborted) console.error('watch failed:', err);
        }
      })();
    },
    close: destroy,
  };
}

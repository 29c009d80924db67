/**
 * KeyCache remembers, per key, the last version this store instance read or wrote and the etag
 * of its current item, so an update or delete can go straight to its batch (If-Match that etag)
 * without reading first. A stale entry is harmless: the If-Match fails and the store re-reads.
 * Bounded: the least recently used entry is dropped past `capacity`.
 */
import type { KeyValue } from '../../../shared/store/store.js';

/** CachedVersion is a version and the etag of the current item holding it. */
export interface CachedVersion {
  kv: KeyValue;
  etag: string;
}

/** KeyCache is a small LRU map from key to its cached version. */
export class KeyCache {
  private readonly entries = new Map<string, CachedVersion>();

  constructor(private readonly capacity: number) {}

  /** get returns the entry and marks it recently used. */
  get(key: string): CachedVersion | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** set stores the entry (callers pass values they will not mutate). */
  set(key: string, entry: CachedVersion): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * The items the Cosmos DB adapter keeps in one cluster's logical partition, and how they map to
 * the Store port's types. Every item carries `cluster` (the partition key) and `type`.
 *
 * - `counter` (id `revision`): the cluster's revision counter, bumped by every write's batch.
 * - `compact` (id `compact`): the revision compacted to (history at or below it is deleted).
 * - `current` (id from `keyItemId`): the live version of a key; deleted with the key.
 * - `log` (id `rev-<16 digits>`): one per revision, for watch and reads at an older revision. It
 *   embeds the version it replaced, so a reader needs only the changes AFTER a revision to know
 *   the state AT it (see history.ts). Log items expire by TTL (`ttl` on the item) and are deleted
 *   by compaction. An `abandoned` log item marks a revision that a non-atomic backend consumed
 *   without a change (see batch.ts).
 */
import { createHash } from 'node:crypto';
import type { KeyValue, StoredValue } from '../../../shared/store/store.js';

/** COUNTER_ID is the id of the revision counter item. */
export const COUNTER_ID = 'revision';
/** COMPACT_ID is the id of the item recording the compacted revision. */
export const COMPACT_ID = 'compact';

/** SystemFields are what Cosmos DB adds to every item it returns. */
export interface SystemFields {
  _etag?: string;
  _ts?: number;
}

/** CounterItem holds the cluster's newest revision. */
export interface CounterItem extends SystemFields {
  id: typeof COUNTER_ID;
  cluster: string;
  type: 'counter';
  revision: number;
}

/** CompactItem holds the revision the cluster was compacted to. */
export interface CompactItem extends SystemFields {
  id: typeof COMPACT_ID;
  cluster: string;
  type: 'compact';
  revision: number;
}

/** CurrentItem is the live version of one key. */
export interface CurrentItem extends SystemFields {
  id: string;
  cluster: string;
  type: 'current';
  key: string;
  value: StoredValue;
  modRevision: number;
  createRevision: number;
}

/** LogItem is the change made at one revision (or an abandoned revision). */
export interface LogItem extends SystemFields {
  id: string;
  cluster: string;
  type: 'log';
  revision: number;
  key: string;
  /** The new value; for a delete, the value that was deleted. */
  value?: StoredValue;
  createRevision?: number;
  deleted?: boolean;
  /** The modRevision of the version this change replaced (absent for a create). */
  prevRevision?: number;
  /** The value this update replaced (a delete's replaced value is `value`). */
  prevValue?: StoredValue;
  /** True when the revision was consumed without a change (non-atomic backends only). */
  abandoned?: boolean;
  /** The API request that made this change (WriteOptions.requestId), beside the value, never in it. */
  requestId?: string;
  /** Seconds until Cosmos DB expires the item (container defaultTtl is -1: on, no default). */
  ttl?: number;
}

// Cosmos ids may not contain '/', '\\', '?' or '#', and are at most 255 characters. '~' escapes,
// so the mapping is one-to-one; '/' (the common case) becomes '|' to keep ids readable.
const ESCAPES: Record<string, string> = { '~': '~7E', '|': '~7C', '\\': '~5C', '?': '~3F', '#': '~23', '%': '~25', '/': '|' };
const MAX_READABLE_ID = 240;

/** keyItemId is the id of a key's current item: readable when short, a SHA-256 otherwise. */
export function keyItemId(key: string): string {
  const readable = 'k:' + key.replace(/[~|\\?#%/]/g, (c) => ESCAPES[c]);
  if (readable.length <= MAX_READABLE_ID) return readable;
  return 'h:' + createHash('sha256').update(key).digest('hex');
}

/** logItemId is the id of the log item of `revision`; zero-padded so ids sort like revisions. */
export function logItemId(revision: number): string {
  return 'rev-' + String(revision).padStart(16, '0');
}

/** currentToKeyValue is the port's view of a current item. */
export function currentToKeyValue(item: CurrentItem): KeyValue {
  return { key: item.key, value: item.value, modRevision: item.modRevision, createRevision: item.createRevision };
}

/** logToKeyValue is the version a (non-abandoned) log item produced. */
export function logToKeyValue(item: LogItem): KeyValue {
  const kv: KeyValue = { key: item.key, value: item.value ?? {}, modRevision: item.revision, createRevision: item.createRevision ?? item.revision };
  if (item.requestId) kv.requestId = item.requestId;
  return kv;
}

/** replacedVersion is the version a log item replaced, or undefined when it created the key. */
export function replacedVersion(item: LogItem): KeyValue | undefined {
  if (item.prevRevision === undefined) return undefined;
  const value = item.deleted ? item.value : item.prevValue;
  return { key: item.key, value: value ?? {}, modRevision: item.prevRevision, createRevision: item.createRevision ?? item.prevRevision };
}

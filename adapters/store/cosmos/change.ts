/**
 * The Cosmos DB change feed, read as store changes. The adapter writes one immutable `log` item
 * per revision (items.ts); the change feed delivers each once, in revision order within the
 * cluster's partition, and also delivers the other items (`current`, `counter`, `compact`), which
 * carry nothing a controller needs. The local host delivers the same `log` documents from the
 * store's watch (documentFromWatchEvent), so one function serves both.
 *
 * The document shape is restated here (not imported from items.ts) on purpose: it is the wire
 * format the trigger receives, and this file must keep reading it even if the adapter's internal
 * types move; items.ts' LogItem must stay assignable to ChangeFeedDocument.
 */
import type { Change } from '../../../shared/controllers/change.js';
import type { KubeObject } from '../../../shared/api/objects.js';
import type { WatchEvent } from '../../../shared/store/store.js';

/** ChangeFeedDocument is a `log` item as the change feed delivers it (other item types pass through as unknown shapes). */
export interface ChangeFeedDocument {
  id: string;
  cluster: string;
  type: 'log';
  revision: number;
  key: string;
  value?: Record<string, unknown>;
  createRevision?: number;
  deleted?: boolean;
  prevRevision?: number;
  prevValue?: Record<string, unknown>;
  abandoned?: boolean;
  /** The API request that made the change (the Store's WriteOptions.requestId). */
  requestId?: string;
}

function isLogDocument(doc: unknown): doc is ChangeFeedDocument {
  if (typeof doc !== 'object' || doc === null) return false;
  const d = doc as Partial<ChangeFeedDocument>;
  return d.type === 'log' && typeof d.revision === 'number' && typeof d.key === 'string';
}

/**
 * changeFromDocument turns one change-feed document into a Change, or undefined for documents
 * that are not changes (counter, compaction marker, current items, abandoned revisions).
 */
export function changeFromDocument(doc: unknown): Change | undefined {
  if (!isLogDocument(doc) || doc.abandoned) return undefined;
  const requestId = typeof doc.requestId === 'string' ? { requestId: doc.requestId } : {};
  if (doc.deleted) return { key: doc.key, type: 'delete', value: (doc.value ?? {}) as KubeObject, revision: doc.revision, ...requestId };
  return { key: doc.key, type: 'put', value: (doc.value ?? {}) as KubeObject, prevValue: doc.prevValue as KubeObject | undefined, revision: doc.revision, ...requestId };
}

/** logDocumentId is a log item's id: `rev-` and the revision in 16 digits (as items.ts names them). */
function logDocumentId(revision: number): string {
  return 'rev-' + String(revision).padStart(16, '0');
}

/** documentFromWatchEvent renders a store watch event as the log document the change feed would deliver; undefined for progress events. */
export function documentFromWatchEvent(event: WatchEvent, cluster: string): ChangeFeedDocument | undefined {
  if (event.type === 'progress') return undefined;
  const { kv, prev } = event;
  const doc: ChangeFeedDocument = {
    id: logDocumentId(kv.modRevision), cluster, type: 'log', revision: kv.modRevision, key: kv.key,
    value: event.type === 'delete' ? event.prev.value : kv.value, createRevision: kv.createRevision,
  };
  if (event.type === 'delete') doc.deleted = true;
  if (kv.requestId) doc.requestId = kv.requestId;
  if (prev) {
    doc.prevRevision = prev.modRevision;
    if (event.type === 'put') doc.prevValue = prev.value;
  }
  return doc;
}

/**
 * The SQL of the SQLite store: prepared statements and the decoding of rows into the Store's types.
 * Every function here is synchronous (better-sqlite3) and reads one consistent snapshot.
 */
import { StoreError, type KeyValue, type StoredValue, type WatchEvent } from '../../../shared/store/store.js';
import { COMPACTED_REVISION_KEY, NODE_NAME, type SqliteDatabase } from './schema.js';

/** Row is one revision as stored. `value` is JSON text; for a tombstone, the deleted version's. */
export interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
  /** The API request that wrote this revision (WriteOptions.requestId), or null. */
  request_id?: string | null;
}

/** EventRow is a Row with the version it replaced (for puts that updated a key). */
export interface EventRow extends Row {
  prev_value: string | null;
  prev_create_revision: number | null;
}

/** KeyRange is the half-open range of keys [lo, hi) that start with a prefix. */
export interface KeyRange {
  lo: string;
  hi: string;
}

/** Larger than any key the store accepts in practice: the top of the Unicode range. */
const TOP = '\u{10FFFF}';
/** Reads "now" as of the newest revision. */
const NOW = Number.MAX_SAFE_INTEGER;

/**
 * prefixRange returns the keys that start with `prefix` as a range, so the (name, id) index serves it.
 * SQLite compares TEXT as UTF-8 bytes, which orders code points as incrementing the last one does.
 */
export function prefixRange(prefix: string): KeyRange {
  if (prefix === '') return { lo: '', hi: TOP };
  const last = prefix.codePointAt(prefix.length - 1)!;
  const stem = prefix.slice(0, last > 0xffff ? -2 : -1);
  return { lo: prefix, hi: stem + String.fromCodePoint(last + 1) };
}

/** toKeyValue decodes a live row (or a tombstone, giving the deleted value at the delete's revision). */
export function toKeyValue(row: Row): KeyValue {
  const kv: KeyValue = {
    key: row.name,
    value: JSON.parse(row.value),
    modRevision: row.id,
    createRevision: row.create_revision,
  };
  if (row.request_id) kv.requestId = row.request_id;
  return kv;
}

/**
 * toListedKeyValue is toKeyValue for lists: the stored text is kept as the non-enumerable `json`
 * (see KeyValue) and `value` is parsed only when first read, so a list rendered from the text
 * never parses.
 */
export function toListedKeyValue(row: Row): KeyValue {
  let value: StoredValue | undefined;
  const kv = { key: row.name } as KeyValue;
  Object.defineProperty(kv, 'value', {
    enumerable: true,
    configurable: true,
    get: () => (value ??= JSON.parse(row.value) as StoredValue),
    set: (v: StoredValue) => { value = v; },
  });
  kv.modRevision = row.id;
  kv.createRevision = row.create_revision;
  Object.defineProperty(kv, 'json', { value: row.value, enumerable: false });
  return kv;
}

/** toWatchEvent decodes a row into the change it records. */
export function toWatchEvent(row: EventRow): WatchEvent {
  const kv = toKeyValue(row);
  if (row.deleted) {
    // The deleted version: the delete's request id is the event's, not the version's.
    const { requestId: _deletedBy, ...deleted } = toKeyValue(row);
    return { type: 'delete', kv, prev: { ...deleted, modRevision: row.prev_revision } };
  }
  if (row.created || row.prev_value === null) return { type: 'put', kv };
  const prev: KeyValue = {
    key: row.name,
    value: JSON.parse(row.prev_value),
    modRevision: row.prev_revision,
    createRevision: row.prev_create_revision ?? row.create_revision,
  };
  return { type: 'put', kv, prev };
}

/** SqliteQueries holds the prepared statements of one connection. */
export class SqliteQueries {
  private readonly latestAt;
  private readonly liveAt;
  private readonly liveAtNodeName;
  private readonly liveCountAt;
  private readonly eventsInRange;
  private readonly sequence;
  private readonly compacted;

  constructor(readonly db: SqliteDatabase) {
    this.latestAt = db.prepare<[string, number], Row>(
      'SELECT * FROM kv WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1',
    );
    // The newest ids come ordered by name and drive the join (CROSS JOIN keeps that loop order), so
    // SQLite sees the outer ORDER BY already satisfied: no temporary B-tree sorting every row of a
    // big list (10,000 pods: about half the query's time).
    this.liveAt = db.prepare<Record<string, unknown>, Row>(
      `SELECT kv.* FROM (SELECT name, max(id) AS id FROM kv
         WHERE name >= @lo AND name < @hi AND name > @after AND id <= @rev GROUP BY name ORDER BY name) m
       CROSS JOIN kv ON kv.id = m.id
       WHERE kv.deleted = 0 ORDER BY m.name LIMIT @limit`,
    );
    // The same for ListOptions.fieldEquals on spec.nodeName: the keys that ever had that value come
    // from the kv_node_name index (schema.ts), then each key's row as of @rev must still have it.
    this.liveAtNodeName = db.prepare<Record<string, unknown>, Row>(
      `SELECT kv.* FROM (SELECT name, max(id) AS id FROM kv
         WHERE name IN (SELECT name FROM kv WHERE ${NODE_NAME} = @value
                          AND name >= @lo AND name < @hi AND name > @after AND id <= @rev)
           AND id <= @rev GROUP BY name ORDER BY name) m
       CROSS JOIN kv ON kv.id = m.id
       WHERE kv.deleted = 0 AND ${NODE_NAME} = @value ORDER BY m.name LIMIT @limit`,
    );
    // `deleted` is a bare column beside max(id): SQLite takes it from the row holding the max
    // (documented for min/max aggregates), so the covering (name, id, deleted) index answers alone.
    this.liveCountAt = db.prepare<Record<string, unknown>, { n: number }>(
      `SELECT count(*) AS n FROM (SELECT max(id) AS id, deleted FROM kv
         WHERE name >= @lo AND name < @hi AND name > @after AND id <= @rev GROUP BY name) WHERE deleted = 0`,
    );
    this.eventsInRange = db.prepare<Record<string, unknown>, EventRow>(
      `SELECT kv.*, p.value AS prev_value, p.create_revision AS prev_create_revision
       FROM kv LEFT JOIN kv p ON p.id = kv.prev_revision AND kv.created = 0 AND kv.deleted = 0
       WHERE kv.id > @after AND kv.id <= @upTo AND kv.name >= @lo AND kv.name < @hi
       ORDER BY kv.id LIMIT @limit`,
    );
    this.sequence = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'kv'");
    this.compacted = db.prepare<[], { value: number }>(
      `SELECT value FROM meta WHERE key = '${COMPACTED_REVISION_KEY}'`,
    );
  }

  /** currentRevision is the newest revision ever written (kept across compaction by AUTOINCREMENT). */
  currentRevision(): number {
    return this.sequence.get()?.seq ?? 0;
  }

  compactedRevision(): number {
    return this.compacted.get()?.value ?? 0;
  }

  /** latest returns the newest row of `key` (live or tombstone) as of `revision` (default: now). */
  latest(key: string, revision = NOW): Row | undefined {
    return this.latestAt.get(key, revision);
  }

  /** checkNotCompacted throws Gone when `revision` is below the compacted revision. */
  checkNotCompacted(revision: number): void {
    const compacted = this.compactedRevision();
    if (revision < compacted) {
      throw new StoreError('Gone', `revision ${revision} is compacted (compacted revision ${compacted})`);
    }
  }

  /**
   * liveRows returns up to `limit` (0: all) live rows in `range` after key `after`, as of
   * `revision`; with `nodeName`, only those whose value's spec.nodeName is it.
   */
  liveRows(range: KeyRange, revision: number, after: string, limit: number, nodeName?: string): Row[] {
    const params = { ...range, rev: revision, after, limit: limit > 0 ? limit : -1 };
    return nodeName !== undefined ? this.liveAtNodeName.all({ ...params, value: nodeName }) : this.liveAt.all(params);
  }

  /** nodeNameListPlan is SQLite's EXPLAIN QUERY PLAN of liveRows by spec.nodeName (tests check it uses kv_node_name). */
  nodeNameListPlan(): string {
    const sql = this.liveAtNodeName.source;
    const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ lo: '', hi: '\u{10FFFF}', after: '', rev: NOW, limit: -1, value: '' }) as Array<{ detail: string }>;
    return rows.map((r) => r.detail).join('\n');
  }

  /** liveCount counts the live keys in `range` after key `after`, as of `revision` (default: now). */
  liveCount(range: KeyRange, after = '', revision = NOW): number {
    return this.liveCountAt.get({ ...range, rev: revision, after })!.n;
  }

  /** events returns up to `limit` rows in `range` with revision in (after, upTo], oldest first. */
  events(range: KeyRange, after: number, upTo: number, limit: number): EventRow[] {
    return this.eventsInRange.all({ ...range, after, upTo, limit });
  }
}

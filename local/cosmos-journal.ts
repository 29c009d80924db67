/**
 * A durable journal for the in-memory Cosmos DB emulator (`@vercel/cosmosdb-server`), so the
 * Azure-shaped mode keeps its data across a stop or a `kill -9` of `coracle up`, as Cosmos DB does.
 *
 * What is journaled is each write's *effect*, read from the request and the emulator's answer,
 * not the request itself: a document put (the stored document, as the emulator answered it) or
 * delete, a database or collection created, replaced or deleted. A transactional batch contributes
 * the operations the emulator applied (it is not atomic: it stops at the first failure without
 * undoing the earlier ones, and only the applied ones are recorded). Queries and reads are not
 * writes. Each entry is appended and fdatasync'ed before the emulator's answer is sent, so an
 * acknowledged write is on disk.
 *
 * On start the journal is folded into the final state (the last put or delete of each document
 * wins), written back compacted (a temporary file, fsync, rename), and replayed into the fresh
 * emulator over HTTP before anyone else can reach it: upserts without conditions. ETags, `_rid`
 * and `_ts` are the emulator's own again after a replay (new values), as after a failover of a
 * real account; clients re-read before a compare-and-swap anyway.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { readTextIfExistsSync } from './files.js';

/** JournalEntry is one recorded effect. */
export type JournalEntry =
  | { t: 'db'; db: string; body: Record<string, unknown> }
  | { t: 'deldb'; db: string }
  | { t: 'coll'; db: string; coll: string; body: Record<string, unknown> }
  | { t: 'delcoll'; db: string; coll: string }
  | { t: 'put'; db: string; coll: string; doc: Record<string, unknown> }
  | { t: 'del'; db: string; coll: string; id: string; pk: string };

/** WriteRequest is what the journal needs of a finished write: the request and the answer. */
export interface WriteRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  status: number;
  response: string;
}

const SYSTEM_FIELDS = ['_rid', '_self', '_etag', '_ts', '_attachments'];

function stripSystem(doc: Record<string, unknown>): Record<string, unknown> {
  const out = { ...doc };
  for (const f of SYSTEM_FIELDS) delete out[f];
  return out;
}

function header(h: WriteRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

const isTrue = (h: WriteRequest['headers'], name: string) => (header(h, name) ?? '').toLowerCase() === 'true';

function parseJson(text: string | Buffer): unknown {
  try {
    return JSON.parse(text.toString());
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** partitionKeyText is a partition key as the header carries it, a JSON array (`["c1"]`), from whatever form a batch operation gave. */
function partitionKeyText(raw: unknown): string {
  const parsed = typeof raw === 'string' ? parseJson(raw) : raw;
  if (Array.isArray(parsed)) return JSON.stringify(parsed);
  return JSON.stringify([typeof raw === 'string' && parsed === undefined ? raw : parsed]);
}

/** pathParts splits `/dbs/a/colls/b/docs/c` (the SDK may double the first slash; trailing ones are dropped). */
function pathParts(url: string): string[] {
  const pathname = url.split('?')[0]!; // not new URL(): `//dbs/…` would parse as a host
  return pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
}

/**
 * effectsOf turns a finished request into the entries it wrote (none for reads, queries and
 * failed writes). Pure, so the rules are unit-tested without a server.
 */
export function effectsOf(w: WriteRequest): JournalEntry[] {
  if (w.method === 'GET' || w.method === 'HEAD' || w.status < 200 || w.status > 299) return [];
  const p = pathParts(w.url);
  const [dbs, db, colls, coll, docs, id] = p;
  if (dbs !== 'dbs') return [];
  const response = parseJson(w.response);
  const request = parseJson(w.body);
  if (p.length === 1 && w.method === 'POST') {
    if (isTrue(w.headers, 'x-ms-documentdb-isquery') || header(w.headers, 'content-type') === 'application/query+json') return [];
    return isObject(request) && typeof request.id === 'string' ? [{ t: 'db', db: request.id, body: stripSystem(request) }] : [];
  }
  if (p.length === 2 && w.method === 'DELETE') return [{ t: 'deldb', db: db! }];
  if (colls !== 'colls') return [];
  if (p.length === 3 && w.method === 'POST') {
    if (isTrue(w.headers, 'x-ms-documentdb-isquery') || header(w.headers, 'content-type') === 'application/query+json') return [];
    return isObject(request) && typeof request.id === 'string' ? [{ t: 'coll', db: db!, coll: request.id, body: stripSystem(request) }] : [];
  }
  if (p.length === 4 && w.method === 'PUT') return isObject(request) ? [{ t: 'coll', db: db!, coll: coll!, body: stripSystem(request) }] : [];
  if (p.length === 4 && w.method === 'DELETE') return [{ t: 'delcoll', db: db!, coll: coll! }];
  if (docs !== 'docs') return [];
  const pkHeader = partitionKeyText(header(w.headers, 'x-ms-documentdb-partitionkey') ?? '[]');
  if (p.length === 5 && w.method === 'POST') {
    if (isTrue(w.headers, 'x-ms-documentdb-isquery') || header(w.headers, 'content-type') === 'application/query+json') return [];
    if (isTrue(w.headers, 'x-ms-cosmos-is-batch-request')) {
      if (!Array.isArray(request) || !Array.isArray(response)) return [];
      const out: JournalEntry[] = [];
      request.forEach((op: unknown, i) => {
        const result: unknown = response[i];
        if (!isObject(op) || !isObject(result) || typeof result.statusCode !== 'number' || result.statusCode < 200 || result.statusCode > 299) return;
        if (op.operationType === 'Delete' && typeof op.id === 'string') {
          out.push({ t: 'del', db: db!, coll: coll!, id: op.id, pk: op.partitionKey === undefined ? pkHeader : partitionKeyText(op.partitionKey) });
        } else if (['Create', 'Upsert', 'Replace', 'Patch'].includes(String(op.operationType)) && isObject(result.resourceBody)) {
          out.push({ t: 'put', db: db!, coll: coll!, doc: stripSystem(result.resourceBody) });
        }
      });
      return out;
    }
    return isObject(response) ? [{ t: 'put', db: db!, coll: coll!, doc: stripSystem(response) }] : [];
  }
  if (p.length === 6 && (w.method === 'PUT' || w.method === 'PATCH')) return isObject(response) ? [{ t: 'put', db: db!, coll: coll!, doc: stripSystem(response) }] : [];
  if (p.length === 6 && w.method === 'DELETE') return [{ t: 'del', db: db!, coll: coll!, id: id!, pk: pkHeader }];
  return [];
}

/** partitionPath is a collection's partition key path (`/cluster`), or undefined. */
function partitionPath(body: Record<string, unknown>): string | undefined {
  const pk = body.partitionKey;
  return isObject(pk) && Array.isArray(pk.paths) && typeof pk.paths[0] === 'string' ? pk.paths[0] : undefined;
}

function valueAt(doc: Record<string, unknown>, keyPath: string): unknown {
  return keyPath.split('/').filter((s) => s !== '').reduce<unknown>((v, k) => (isObject(v) ? v[k] : undefined), doc);
}

/** fold reduces a journal to the entries that rebuild its final state (databases, collections, live documents). */
export function fold(entries: readonly JournalEntry[]): JournalEntry[] {
  const dbs = new Map<string, Record<string, unknown>>();
  const colls = new Map<string, { db: string; coll: string; body: Record<string, unknown> }>();
  const docs = new Map<string, Map<string, Record<string, unknown>>>(); // db\tcoll → pk\tid → doc
  const collKey = (db: string, coll: string) => `${db}\t${coll}`;
  for (const e of entries) {
    switch (e.t) {
      case 'db':
        dbs.set(e.db, e.body);
        break;
      case 'deldb':
        dbs.delete(e.db);
        for (const k of [...colls.keys()]) if (k.startsWith(`${e.db}\t`)) { colls.delete(k); docs.delete(k); }
        break;
      case 'coll':
        colls.set(collKey(e.db, e.coll), { db: e.db, coll: e.coll, body: e.body });
        break;
      case 'delcoll':
        colls.delete(collKey(e.db, e.coll));
        docs.delete(collKey(e.db, e.coll));
        break;
      case 'put': {
        const c = colls.get(collKey(e.db, e.coll));
        const pkPath = c ? partitionPath(c.body) : undefined;
        const key = `${JSON.stringify(pkPath ? valueAt(e.doc, pkPath) ?? null : null)}\t${String(e.doc.id)}`;
        let m = docs.get(collKey(e.db, e.coll));
        if (!m) docs.set(collKey(e.db, e.coll), (m = new Map()));
        m.set(key, e.doc);
        break;
      }
      case 'del': {
        const parsed = parseJson(e.pk);
        const value = Array.isArray(parsed) ? parsed[0] : parsed;
        docs.get(collKey(e.db, e.coll))?.delete(`${JSON.stringify(value ?? null)}\t${e.id}`);
        break;
      }
    }
  }
  const out: JournalEntry[] = [...dbs].map(([db, body]) => ({ t: 'db', db, body }));
  for (const c of colls.values()) if (dbs.has(c.db)) out.push({ t: 'coll', ...c });
  for (const [k, m] of docs) {
    if (!colls.has(k)) continue;
    const [db, coll] = k.split('\t') as [string, string];
    for (const doc of m.values()) out.push({ t: 'put', db, coll, doc });
  }
  return out;
}

/** readJournal parses a journal file; a torn last line (a crash mid-append) is dropped, any other bad line is an error. */
export function readJournal(file: string): JournalEntry[] {
  const text = readTextIfExistsSync(file);
  if (text === undefined) return [];
  const lines = text.split('\n');
  const entries: JournalEntry[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    const e = parseJson(line);
    if (isObject(e) && typeof e.t === 'string') entries.push(e as JournalEntry);
    else if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l !== '')) throw new Error(`${file}: line ${i + 1} is not a journal entry`);
  });
  return entries;
}

/** Journal appends entries durably. */
export class Journal {
  private fd: number;

  /** open compacts `file` (see fold) and opens it for appending; returns the journal and the entries to replay. */
  static open(file: string): { journal: Journal; state: JournalEntry[] } {
    const state = fold(readJournal(file));
    const tmp = `${file}.compact`;
    const fd = openSync(tmp, 'w', 0o600);
    writeSync(fd, state.map((e) => `${JSON.stringify(e)}\n`).join(''));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
    const dir = openSync(path.dirname(file), 'r');
    fsyncSync(dir);
    closeSync(dir);
    return { journal: new Journal(openSync(file, 'a', 0o600)), state };
  }

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** append writes the entries and waits for the disk. */
  append(entries: readonly JournalEntry[]): void {
    if (entries.length === 0) return;
    writeSync(this.fd, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    fdatasyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

function send(agent: http.Agent, endpoint: string, method: string, p: string, headers: Record<string, string>, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(new URL(p, endpoint), { method, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** replay writes `state` (fold's output) into an empty emulator at `endpoint`. */
export async function replay(endpoint: string, state: readonly JournalEntry[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const pkPaths = new Map<string, string | undefined>();
  const enc = encodeURIComponent;
  try {
    for (const e of state) {
      let status: number;
      if (e.t === 'db') status = await send(agent, endpoint, 'POST', '/dbs', {}, e.body);
      else if (e.t === 'coll') {
        pkPaths.set(`${e.db}\t${e.coll}`, partitionPath(e.body));
        status = await send(agent, endpoint, 'POST', `/dbs/${enc(e.db)}/colls`, {}, e.body);
      } else if (e.t === 'put') {
        const pkPath = pkPaths.get(`${e.db}\t${e.coll}`);
        const pk = JSON.stringify([pkPath ? valueAt(e.doc, pkPath) ?? null : null]);
        status = await send(agent, endpoint, 'POST', `/dbs/${enc(e.db)}/colls/${enc(e.coll)}/docs`, { 'x-ms-documentdb-is-upsert': 'true', 'x-ms-documentdb-partitionkey': pk }, e.doc);
      } else continue; // fold leaves no deletes
      if (status < 200 || status > 299) throw new Error(`replaying the Cosmos emulator's journal: ${e.t} in ${e.db} answered ${status}`);
    }
  } finally {
    agent.destroy();
  }
}

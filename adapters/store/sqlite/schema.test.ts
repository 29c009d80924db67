import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RELEASE_VERSION } from '../../../shared/release/version.js';
import { openSqliteStore } from './index.js';
import { openDatabase, SQLITE_MIGRATIONS } from './schema.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-schema-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

describe('SQLite store schema migrations', () => {
  it('a new file gets every migration, recorded with this release', async () => {
    const store = await openSqliteStore({ path: path.join(dir, 'new.db') });
    const schema = await store.storageSchema();
    await store.close();
    expect(schema.backend).toBe('sqlite');
    expect(schema.version).toBe(SQLITE_MIGRATIONS.length);
    expect(schema.migrations.map((m) => [m.version, m.release])).toEqual(SQLITE_MIGRATIONS.map((m) => [m.version, RELEASE_VERSION]));
  });

  it('a file at version 1 keeps every revision and gains version 2, which the next open does not apply again', async () => {
    const file = path.join(dir, 'old.db');
    openDatabase(file, 'full', SQLITE_MIGRATIONS.slice(0, 1)).close();
    const old = new Database(file);
    expect(old.pragma('user_version', { simple: true })).toBe(1);
    const insert = old.prepare('INSERT INTO kv (name, created, deleted, create_revision, prev_revision, value) VALUES (?, 1, 0, ?, 0, ?)');
    insert.run('/registry/core/pods/default/a', 1, JSON.stringify({ kind: 'Pod', spec: { nodeName: 'node-1' } }));
    insert.run('/registry/core/pods/default/b', 2, JSON.stringify({ kind: 'Pod', spec: { nodeName: 'node-2' } }));
    old.close();

    const store = await openSqliteStore({ path: file });
    expect((await store.get('/registry/core/pods/default/a'))?.modRevision).toBe(1);
    const onNode2 = await store.list('/registry/core/pods/', { countRemaining: false, fieldEquals: { field: 'spec.nodeName', value: 'node-2' } });
    expect(onNode2.items.map((kv) => kv.key)).toEqual(['/registry/core/pods/default/b']);
    const written = await store.create('/registry/core/pods/default/c', { kind: 'Pod' }, { requestId: 'req-1' });
    expect(written.modRevision).toBe(3);
    const first = await store.storageSchema();
    await store.close();
    expect(first.version).toBe(2);
    expect(first.migrations.map((m) => m.version)).toEqual([1, 2]);

    const again = await openSqliteStore({ path: file });
    expect(await again.storageSchema()).toEqual(first);
    await again.close();
  });

  it('a file newer than this release is refused, naming it and both versions, and left as it was', async () => {
    const file = path.join(dir, 'newer.db');
    openDatabase(file).close();
    const db = new Database(file);
    db.pragma('user_version = 9');
    db.close();
    await expect(openSqliteStore({ path: file })).rejects.toThrow(`cannot open SQLite store ${JSON.stringify(file)}: the store file is at storage schema version 9, newer than this release's (${SQLITE_MIGRATIONS.length})`);
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(9);
    after.close();
  });
});

/**
 * The SQLite store against the Store contract, on a temporary file; plus what only a file can show:
 * refusing unreadable files, and a second process seeing (and watching) the same file.
 */
import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreContract } from '../shared/store/contract.js';
import { openSqliteStore, type SqliteStore } from '../adapters/store/sqlite/index.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'coracle-sqlite-'));
}

describeStoreContract(
  'sqlite',
  async () => {
    const dir = tempDir();
    const path = join(dir, 'store.db');
    let current: SqliteStore = await openSqliteStore({ path });
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = await openSqliteStore({ path });
        return current;
      },
      destroy: async () => {
        await current.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { atomicWrites: true, ttl: false },
);

describeStoreContract(
  'sqlite :memory:',
  async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    return { store, destroy: () => store.close() };
  },
  { atomicWrites: true, ttl: false },
);

describe('sqlite store files', () => {
  const opening = (path: string) => openSqliteStore({ path });

  it('refuses a file of garbage bytes, naming it', async () => {
    const dir = tempDir();
    const path = join(dir, 'garbage.db');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    await expect(opening(path)).rejects.toThrow(path);
    rmSync(dir, { recursive: true });
  });

  it('refuses a directory, naming it', async () => {
    const dir = tempDir();
    await expect(opening(dir)).rejects.toThrow(dir);
    rmSync(dir, { recursive: true });
  });

  it('refuses another application\'s SQLite database, naming it', async () => {
    const dir = tempDir();
    const path = join(dir, 'other.db');
    const { default: Database } = await import('better-sqlite3');
    const other = new Database(path);
    other.exec('CREATE TABLE things (id INTEGER PRIMARY KEY)');
    other.close();
    await expect(opening(path)).rejects.toThrow(path);
    rmSync(dir, { recursive: true });
  });

  // root reads any file whatever its mode, so the case can only be shown as another user.
  const asRoot = process.getuid?.() === 0;
  (asRoot ? it.skip : it)('refuses a file it may not read, naming it (skipped as root)', async () => {
    const dir = tempDir();
    const path = join(dir, 'locked.db');
    await (await opening(path)).close();
    chmodSync(path, 0o000);
    await expect(opening(path)).rejects.toThrow(path);
    rmSync(dir, { recursive: true });
  });

  it('a second connection to the same file sees and watches the first one\'s writes', async () => {
    const dir = tempDir();
    const path = join(dir, 'shared.db');
    const writer = await openSqliteStore({ path });
    const reader = await openSqliteStore({ path, pollIntervalMs: 20 });
    const ac = new AbortController();
    const it = reader.watch('/s/', 0, { signal: ac.signal })[Symbol.asyncIterator]();
    const first = it.next();
    const kv = await writer.create('/s/a', { v: 1 });
    expect(await reader.get('/s/a')).toEqual(kv);
    expect((await first).value).toEqual({ type: 'put', kv });
    const outcomes = await Promise.allSettled([
      writer.update('/s/a', { v: 2 }, kv.modRevision),
      reader.update('/s/a', { v: 3 }, kv.modRevision),
    ]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : o.reason.reason)).sort()).toEqual(['Conflict', 'ok']);
    ac.abort();
    await writer.close();
    await reader.close();
    rmSync(dir, { recursive: true });
  });
});

describe('sqlite list by spec.nodeName', () => {
  it('answers from the kv_node_name index: other nodes\' rows, and rows that had the node only in an older version, are left out', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const a = { field: 'spec.nodeName', value: 'a' } as const;
    try {
      for (let i = 0; i < 9; i++) await store.create(`/p/${i}`, { spec: { nodeName: i % 3 === 0 ? 'a' : 'b' } });
      const before = await store.currentRevision();
      // /p/3 moves to b, /p/6 is deleted, /p/1 moves to a: as of now a has 0 and 1; as of `before` 0, 3 and 6.
      await store.update('/p/3', { spec: { nodeName: 'b' } }, (await store.get('/p/3'))!.modRevision);
      await store.delete('/p/6');
      await store.update('/p/1', { spec: { nodeName: 'a' } }, (await store.get('/p/1'))!.modRevision);
      const keys = async (options: Parameters<typeof store.list>[1]) => (await store.list('/p/', { countRemaining: false, fieldEquals: a, ...options })).items.map((kv) => kv.key);
      expect(await keys({})).toEqual(['/p/0', '/p/1']);
      expect(await keys({ revision: before })).toEqual(['/p/0', '/p/3', '/p/6']);
      const first = await store.list('/p/', { limit: 1, countRemaining: false, fieldEquals: a });
      expect(first).toMatchObject({ more: true });
      expect(await keys({ startAfter: first.items[0].key })).toEqual(['/p/1']);
      // A counted page ignores it (the count covers the whole range).
      expect((await store.list('/p/', { fieldEquals: a })).items).toHaveLength(8);
      const plan = store.explainNodeNameList();
      expect(plan).toContain('kv_node_name');
    } finally {
      await store.close();
    }
  });
});

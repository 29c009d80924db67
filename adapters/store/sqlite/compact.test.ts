import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openSqliteStore, type SqliteStore } from './index.js';

let store: SqliteStore;
beforeEach(async () => { store = await openSqliteStore({ path: ':memory:' }); });
afterEach(async () => { await store.close(); });

describe('SQLite compaction in chunks (issue 15)', () => {
  it('compacts 12,000 revisions in several transactions, letting the event loop run between them, and keeps each newest version', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `/registry/configmaps/default/c${i}`);
    const revisions = new Map<string, number>();
    for (const key of keys) revisions.set(key, (await store.create(key, { n: 0 })).modRevision);
    for (let n = 1; n <= 1200; n++) {
      await Promise.all(keys.map(async (key) => revisions.set(key, (await store.update(key, { n }, revisions.get(key)!)).modRevision)));
    }
    const gone = (await store.create('/registry/configmaps/default/gone', { n: 0 })).modRevision;
    await store.delete('/registry/configmaps/default/gone', gone);
    const head = await store.currentRevision();
    expect(head).toBeGreaterThan(12_000);

    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const compaction = store.compact(head);
    // Marked at once: a read below the compacted revision already answers Gone.
    await new Promise((r) => setImmediate(r));
    await expect(store.get(keys[0]!, { revision: head - 1 })).rejects.toMatchObject({ reason: 'Gone' });
    await compaction;
    clearInterval(ticking);
    expect(turns).toBeGreaterThan(1);
    expect(await store.compactedRevision()).toBe(head);
    const listed = await store.list('/registry/configmaps/');
    expect(listed.items.map((kv) => [kv.key, kv.value.n])).toEqual(keys.map((k) => [k, 1200]).sort());
    const rows = (store as unknown as { db: { prepare(sql: string): { get(): { n: number } } } }).db.prepare('SELECT count(*) AS n FROM kv').get().n;
    expect(rows).toBe(10);
  }, 60_000);
});

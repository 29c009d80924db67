/**
 * The Store contract suite: every Store adapter runs it (`describeStoreContract('sqlite', ...)`).
 * It checks the contract written in `store.ts` through the port alone. Excluded from the build.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { isStoreError, type KeyValue, type Store, type StoreErrorReason, type WatchEvent } from './store.js';

/** StoreHarness is one fresh, empty store opened for one test. */
export interface StoreHarness {
  store: Store;
  /** close and reopen the same data; absent if not supported */
  reopen?: () => Promise<Store>;
  /** close (also a store returned by `reopen`) and delete everything */
  destroy: () => Promise<void>;
}

/** StoreCapabilities name what a backend can show; a missing one narrows what a test asserts. */
export interface StoreCapabilities {
  /** writes of one revision are atomic (a real transaction) */
  atomicWrites: boolean;
  /** history/tombstones expire by the backend's TTL */
  ttl: boolean;
}

const SLOW = 60_000;

/** expectReason awaits `promise` and asserts it fails with a StoreError of `reason`. */
async function expectReason(promise: Promise<unknown>, reason: StoreErrorReason) {
  try {
    await promise;
  } catch (err) {
    expect(isStoreError(err) ? err.reason : err).toBe(reason);
    return err as import('./store.js').StoreError;
  }
  throw new Error(`expected a StoreError ${reason}, but the call succeeded`);
}

/** nextChanges reads `n` put/delete events from `it` (skipping progress), failing after `timeoutMs`. */
async function nextChanges(it: AsyncIterator<WatchEvent>, n: number, timeoutMs = 10_000) {
  const events: WatchEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (events.length < n) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`watch gave ${events.length} of ${n} changes`)), left);
    });
    const step = await Promise.race([it.next(), timeout]).finally(() => clearTimeout(timer));
    if (step.done) throw new Error(`watch ended after ${events.length} of ${n} changes`);
    if (step.value.type !== 'progress') events.push(step.value);
  }
  return events;
}

/** expectNoChange asserts `it` yields no put/delete within `ms` (progress events are fine). */
async function expectNoChange(it: AsyncIterator<WatchEvent>, ms: number) {
  await expect(nextChanges(it, 1, ms)).rejects.toThrow(/gave 0 of 1/);
}

function revisionOf(e: WatchEvent): number {
  return e.type === 'progress' ? e.revision : e.kv.modRevision;
}

function summary(e: WatchEvent) {
  return e.type === 'progress' ? e : { type: e.type, key: e.kv.key, rev: e.kv.modRevision, value: e.kv.value };
}

/** describeStoreContract registers the contract tests for one adapter; `open` gives a fresh, empty store. */
export function describeStoreContract(
  adapterName: string,
  open: () => Promise<StoreHarness>,
  caps: StoreCapabilities,
): void {
  describe(`Store contract: ${adapterName}`, () => {
    let h: StoreHarness;
    let store: Store;
    const aborts: AbortController[] = [];
    /** watchFrom opens a watch that is aborted after the test. */
    const watchFrom = (prefix: string, from: number, progressIntervalMs?: number) => {
      const ac = new AbortController();
      aborts.push(ac);
      return store.watch(prefix, from, { signal: ac.signal, progressIntervalMs })[Symbol.asyncIterator]();
    };

    beforeEach(async () => {
      h = await open();
      store = h.store;
    }, SLOW);
    afterEach(async () => {
      for (const ac of aborts.splice(0)) ac.abort();
      await h.destroy();
    }, SLOW);

    describe('revisions', () => {
      it('start at 0 when empty and above 0 after the first write', async () => {
        expect(await store.currentRevision()).toBe(0);
        const kv = await store.create('/r/a', { n: 1 });
        expect(kv.modRevision).toBeGreaterThan(0);
        expect(await store.currentRevision()).toBe(kv.modRevision);
      });

      it('grow with every write, and currentRevision follows', async () => {
        const a = await store.create('/r/a', { n: 1 });
        const b = await store.create('/r/b', { n: 1 });
        const a2 = await store.update('/r/a', { n: 2 }, a.modRevision);
        const d = await store.delete('/r/b');
        const revisions = [a, b, a2, d].map((kv) => kv.modRevision);
        expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
        expect(new Set(revisions).size).toBe(4);
        expect(await store.currentRevision()).toBe(d.modRevision);
      });
    });

    describe('writes', () => {
      it('create stores a new key and answers AlreadyExists for an existing one', async () => {
        const kv = await store.create('/w/a', { spec: { x: 1 } });
        expect(kv).toEqual({ key: '/w/a', value: { spec: { x: 1 } }, modRevision: kv.modRevision, createRevision: kv.modRevision });
        expect(await store.get('/w/a')).toEqual(kv);
        const err = await expectReason(store.create('/w/a', { spec: { x: 2 } }), 'AlreadyExists');
        if (err.current) expect(err.current).toEqual(kv);
        expect((await store.get('/w/a'))?.value).toEqual({ spec: { x: 1 } });
      });

      it('update compares and swaps on modRevision: Conflict when stale, NotFound when absent', async () => {
        const v1 = await store.create('/w/a', { v: 1 });
        const v2 = await store.update('/w/a', { v: 2 }, v1.modRevision);
        expect(v2.modRevision).toBeGreaterThan(v1.modRevision);
        expect(v2.createRevision).toBe(v1.modRevision);
        const err = await expectReason(store.update('/w/a', { v: 3 }, v1.modRevision), 'Conflict');
        if (err.current) expect(err.current).toEqual(v2);
        expect((await store.get('/w/a'))?.value).toEqual({ v: 2 });
        await expectReason(store.update('/w/none', { v: 1 }, v1.modRevision), 'NotFound');
        await store.delete('/w/a');
        await expectReason(store.update('/w/a', { v: 4 }, v2.modRevision), 'NotFound');
      });

      it('delete leaves a tombstone: gone now, readable at an older revision; checks expected revision', async () => {
        const a = await store.create('/w/a', { v: 1 });
        const b = await store.create('/w/b', { v: 1 });
        const err = await expectReason(store.delete('/w/a', a.modRevision + 100), 'Conflict');
        if (err.current) expect(err.current).toEqual(a);
        expect(await store.get('/w/a')).toEqual(a);
        const deletedA = await store.delete('/w/a', a.modRevision);
        expect(deletedA).toEqual({ ...a, modRevision: deletedA.modRevision });
        expect(deletedA.modRevision).toBeGreaterThan(b.modRevision);
        const deletedB = await store.delete('/w/b');
        expect(deletedB.value).toEqual({ v: 1 });
        expect(await store.get('/w/a')).toBeUndefined();
        expect(await store.get('/w/a', { revision: deletedA.modRevision - 1 })).toEqual(a);
        expect(await store.get('/w/a', { revision: deletedA.modRevision })).toBeUndefined();
        await expectReason(store.delete('/w/a'), 'NotFound');
        const again = await store.create('/w/a', { v: 2 });
        expect(again.createRevision).toBe(again.modRevision);
        expect(again.modRevision).toBeGreaterThan(deletedB.modRevision);
      });

      const failedWrites = caps.atomicWrites
        ? 'a failed write changes nothing and consumes no revision'
        : 'a failed write changes no value (no atomic batches: the revision counter is not asserted)';
      it(failedWrites, async () => {
        const a = await store.create('/w/a', { v: 1 });
        const before = await store.currentRevision();
        await expectReason(store.create('/w/a', { v: 2 }), 'AlreadyExists');
        await expectReason(store.update('/w/a', { v: 3 }, a.modRevision + 1), 'Conflict');
        await expectReason(store.delete('/w/a', a.modRevision + 1), 'Conflict');
        await expectReason(store.update('/w/b', { v: 1 }, 1), 'NotFound');
        expect(await store.get('/w/a')).toEqual(a);
        expect(await store.get('/w/b')).toBeUndefined();
        if (caps.atomicWrites) expect(await store.currentRevision()).toBe(before);
        const next = await store.create('/w/c', {});
        expect(next.modRevision).toBeGreaterThan(before);
      });
    });

    describe('reads', () => {
      it('get answers as of any revision in history', async () => {
        const other = await store.create('/g/other', {});
        const v1 = await store.create('/g/a', { v: 1 });
        const v2 = await store.update('/g/a', { v: 2 }, v1.modRevision);
        const del = await store.delete('/g/a');
        const v3 = await store.create('/g/a', { v: 3 });
        expect(await store.get('/g/a', { revision: other.modRevision })).toBeUndefined();
        expect(await store.get('/g/a', { revision: v1.modRevision })).toEqual(v1);
        expect(await store.get('/g/a', { revision: v2.modRevision })).toEqual(v2);
        expect(await store.get('/g/a', { revision: del.modRevision })).toBeUndefined();
        expect(await store.get('/g/a', { revision: v3.modRevision })).toEqual(v3);
        expect(await store.get('/g/a')).toEqual(v3);
      });

      it('list gives the keys under a prefix in key order; /a/ does not match /ab/', async () => {
        for (const key of ['/a/m', '/ab/x', '/a/c', '/a', '/a/z/deep', '/b/a', '/a/a']) await store.create(key, { key });
        const result = await store.list('/a/');
        expect(result.items.map((kv) => kv.key)).toEqual(['/a/a', '/a/c', '/a/m', '/a/z/deep']);
        expect(result.items.map((kv) => kv.value)).toEqual(result.items.map((kv) => ({ key: kv.key })));
        expect(result.revision).toBe(await store.currentRevision());
        expect(result).toMatchObject({ more: false, remaining: 0 });
        expect(await store.count('/a/')).toBe(4);
        expect(await store.count('/ab/')).toBe(1);
        await store.delete('/a/c');
        expect(await store.count('/a/')).toBe(3);
        expect((await store.list('/nothing/')).items).toEqual([]);
      });

      it('list answers as of an older revision', async () => {
        const a = await store.create('/l/a', { v: 1 });
        await store.create('/l/b', { v: 1 });
        const then = await store.currentRevision();
        await store.update('/l/a', { v: 2 }, a.modRevision);
        await store.delete('/l/b');
        await store.create('/l/c', { v: 1 });
        const old = await store.list('/l/', { revision: then });
        expect(old.revision).toBe(then);
        expect(old.items.map((kv) => [kv.key, kv.value])).toEqual([['/l/a', { v: 1 }], ['/l/b', { v: 1 }]]);
        const now = await store.list('/l/');
        expect(now.items.map((kv) => [kv.key, kv.value])).toEqual([['/l/a', { v: 2 }], ['/l/c', { v: 1 }]]);
      });

      it('pages with limit and startAfter stay consistent at one revision while writes continue', async () => {
        const keys = Array.from({ length: 25 }, (_, i) => `/p/${String(i).padStart(2, '0')}`);
        const created = new Map<string, KeyValue>();
        for (const key of keys) created.set(key, await store.create(key, { key }));
        const first = await store.list('/p/', { limit: 10 });
        expect(first.items.map((kv) => kv.key)).toEqual(keys.slice(0, 10));
        expect(first).toMatchObject({ more: true, remaining: 15 });
        // Changes after the first page must not show in the later pages.
        await store.create('/p/99-new', {});
        await store.delete('/p/12');
        await store.update('/p/21', { changed: true }, created.get('/p/21')!.modRevision);
        await store.delete('/p/03');
        const pages = [first];
        while (pages[pages.length - 1].more) {
          const last = pages[pages.length - 1];
          const startAfter = last.items[last.items.length - 1].key;
          pages.push(await store.list('/p/', { limit: 10, revision: first.revision, startAfter }));
        }
        expect(pages.map((p) => [p.items.length, p.more, p.remaining, p.revision])).toEqual([
          [10, true, 15, first.revision],
          [10, true, 5, first.revision],
          [5, false, 0, first.revision],
        ]);
        expect(pages.flatMap((p) => p.items)).toEqual(keys.map((key) => created.get(key)));
        const now = await store.list('/p/', { limit: 30 });
        expect(now.items).toHaveLength(24);
        expect(now).toMatchObject({ more: false, remaining: 0 });
      });

      it('pages without counting the rest: the same items, and more is still exact', async () => {
        const keys = Array.from({ length: 12 }, (_, i) => `/u/${String(i).padStart(2, '0')}`);
        for (const key of keys) await store.create(key, { key });
        await store.delete('/u/05');
        const live = keys.filter((k) => k !== '/u/05');
        const seen: string[] = [];
        const shapes: Array<[number, boolean]> = [];
        let startAfter: string | undefined;
        for (;;) {
          const page = await store.list('/u/', { limit: 4, startAfter, countRemaining: false });
          seen.push(...page.items.map((kv) => kv.key));
          shapes.push([page.items.length, page.more]);
          expect(page.remaining >= 1).toBe(page.more);
          if (!page.more) break;
          startAfter = page.items[page.items.length - 1].key;
        }
        expect(seen).toEqual(live);
        // 11 live keys: 4, 4, 3; the last page ends exactly, and so does one ending on the last key.
        expect(shapes).toEqual([[4, true], [4, true], [3, false]]);
        expect(await store.list('/u/', { limit: 11, countRemaining: false })).toMatchObject({ more: false, remaining: 0 });
      });

      it('a fieldEquals pre-filter never leaves out an item that has the value, through pages and at an older revision', async () => {
        for (let i = 0; i < 10; i++) await store.create(`/h/${i}`, { spec: { nodeName: i % 3 === 0 ? 'n1' : 'n2' } });
        const before = await store.currentRevision();
        await store.update('/h/1', { spec: { nodeName: 'n1' } }, (await store.get('/h/1'))!.modRevision);
        // Moved away from n1 and deleted since `before`: gone now, still there as of `before`.
        await store.update('/h/3', { spec: { nodeName: 'n2' } }, (await store.get('/h/3'))!.modRevision);
        await store.delete('/h/6');
        const hint = { field: 'spec.nodeName', value: 'n1' } as const;
        const keep = (items: KeyValue[]) => items.filter((kv) => (kv.value as { spec: { nodeName: string } }).spec.nodeName === 'n1').map((kv) => kv.key);
        const seen: string[] = [];
        let startAfter: string | undefined;
        for (;;) {
          const page = await store.list('/h/', { limit: 2, startAfter, countRemaining: false, fieldEquals: hint });
          seen.push(...keep(page.items));
          if (!page.more) break;
          startAfter = page.items[page.items.length - 1].key;
        }
        expect(seen).toEqual(['/h/0', '/h/1', '/h/9']);
        const old = await store.list('/h/', { revision: before, countRemaining: false, fieldEquals: hint });
        expect(keep(old.items)).toEqual(['/h/0', '/h/3', '/h/6', '/h/9']);
      });
    });

    describe('watch', () => {
      it("records each write's request id beside the value: its watch event carries it, the value never does", async () => {
        const start = await store.currentRevision();
        const it = watchFrom('/rid/', start);
        const a = await store.create('/rid/a', { v: 1 }, { requestId: 'req-create' });
        const a2 = await store.update('/rid/a', { v: 2 }, a.modRevision, { requestId: 'req-update' });
        await store.create('/rid/b', { v: 1 }); // a write without an id has none
        await store.delete('/rid/a', a2.modRevision, { requestId: 'req-delete' });
        const events = await nextChanges(it, 4);
        expect(events.map((e) => (e.type === 'progress' ? undefined : e.kv.requestId))).toEqual(['req-create', 'req-update', undefined, 'req-delete']);
        for (const e of events) if (e.type !== 'progress') expect(JSON.stringify(e.kv.value)).not.toContain('req-');
        // The versions an event replaced are not the write's: they carry no id of it.
        const deleted = events[3]!;
        expect(deleted.type === 'delete' && deleted.prev.requestId).not.toBe('req-delete');
        expect((await store.get('/rid/b'))?.value).toEqual({ v: 1 });
      });

      it('from a revision: history then live changes, in order, with prev, only under the prefix', async () => {
        const start = await store.create('/x/unrelated', {});
        const a1 = await store.create('/k/a', { v: 1 });
        const a2 = await store.update('/k/a', { v: 2 }, a1.modRevision);
        await store.create('/kk/a', { v: 1 }); // /k/ must not match /kk/
        const it = watchFrom('/k/', start.modRevision);
        const a3 = await store.update('/k/a', { v: 3 }, a2.modRevision);
        const b1 = await store.create('/k/b', { v: 1 });
        const a4 = await store.update('/k/a', { v: 4 }, a3.modRevision);
        const aDel = await store.delete('/k/a');
        const a5 = await store.create('/k/a', { v: 5 });
        const events = await nextChanges(it, 7);
        expect(events).toEqual([
          { type: 'put', kv: a1 },
          { type: 'put', kv: a2, prev: a1 },
          { type: 'put', kv: a3, prev: a2 },
          { type: 'put', kv: b1 },
          { type: 'put', kv: a4, prev: a3 },
          { type: 'delete', kv: { ...a4, modRevision: aDel.modRevision }, prev: a4 },
          { type: 'put', kv: a5 },
        ]);
        await store.create('/kk/b', {});
        await expectNoChange(it, 300);
      });

      it('from 0 or from the current revision gives only changes made after', async () => {
        await store.create('/k/old', {});
        const fromZero = watchFrom('/k/', 0);
        const fromNow = watchFrom('/k/', await store.currentRevision());
        const fresh = await store.create('/k/new', {});
        expect(await nextChanges(fromZero, 1)).toEqual([{ type: 'put', kv: fresh }]);
        expect(await nextChanges(fromNow, 1)).toEqual([{ type: 'put', kv: fresh }]);
      });

      it('under concurrent writers, delivers every change once, in revision order', async () => {
        const from = await store.currentRevision();
        const it = watchFrom('/c/', from);
        const written: KeyValue[] = [];
        const writer = async (w: number) => {
          for (let i = 0; i < 5; i++) {
            const key = `/c/${w}-${i}`;
            let kv = await store.create(key, { w, i, n: 0 });
            written.push(kv);
            for (let n = 1; n <= 2; n++) written.push((kv = await store.update(key, { w, i, n }, kv.modRevision)));
            if (i % 2 === 0) written.push(await store.delete(key));
          }
        };
        await Promise.all(Array.from({ length: 6 }, (_, w) => writer(w)));
        const events = await nextChanges(it, written.length, 20_000);
        const revisions = events.map(revisionOf);
        expect(revisions).toEqual(written.map((kv) => kv.modRevision).sort((x, y) => x - y));
        // Replaying the events rebuilds each key's history: every prev is the version before it.
        const latest = new Map<string, KeyValue>();
        for (const e of events) {
          if (e.type === 'progress') continue;
          expect(e.prev).toEqual(latest.get(e.kv.key));
          if (e.type === 'put') latest.set(e.kv.key, e.kv);
          else latest.delete(e.kv.key);
        }
        const listed = await store.list('/c/');
        expect([...latest.values()].sort((x, y) => (x.key < y.key ? -1 : 1))).toEqual(listed.items);
        await expectNoChange(it, 200);
      }, SLOW);

      it('sends progress events when nothing changes', async () => {
        await store.create('/k/a', {});
        const rev = await store.currentRevision();
        const it = watchFrom('/k/', rev, 50);
        const step = await it.next();
        expect(step.done).toBe(false);
        expect(step.value).toEqual({ type: 'progress', revision: expect.any(Number) });
        expect(revisionOf(step.value as WatchEvent)).toBeGreaterThanOrEqual(rev);
        const b = await store.create('/k/b', {});
        const [event] = await nextChanges(it, 1);
        expect(summary(event)).toEqual({ type: 'put', key: '/k/b', rev: b.modRevision, value: {} });
      });

      it('ends when its signal aborts', async () => {
        const ac = new AbortController();
        const seen: WatchEvent[] = [];
        const done = (async () => {
          for await (const e of store.watch('/k/', 0, { signal: ac.signal, progressIntervalMs: 0 })) seen.push(e);
        })();
        const kv = await store.create('/k/a', {});
        for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        ac.abort();
        await expect(done).resolves.toBeUndefined();
        expect(seen.map(summary)).toEqual([{ type: 'put', key: '/k/a', rev: kv.modRevision, value: {} }]);
      });
    });

    describe('compaction', () => {
      const named = caps.ttl
        ? 'below the compacted revision get, list and watch answer Gone; live values stay'
        : 'below the compacted revision get, list and watch answer Gone; live values stay (no TTL: compact() removes history)';
      it(named, async () => {
        const a1 = await store.create('/m/a', { v: 1 });
        const a2 = await store.update('/m/a', { v: 2 }, a1.modRevision);
        const b = await store.create('/m/b', { v: 1 });
        await store.delete('/m/b');
        const c = await store.create('/m/c', { v: 1 });
        const at = c.modRevision;
        await store.compact(at);
        expect(await store.compactedRevision()).toBe(at);
        await expectReason(store.get('/m/a', { revision: a1.modRevision }), 'Gone');
        await expectReason(store.list('/m/', { revision: b.modRevision }), 'Gone');
        await expectReason(nextChanges(store.watch('/m/', a2.modRevision)[Symbol.asyncIterator](), 1), 'Gone');
        expect(await store.get('/m/a')).toEqual(a2);
        expect((await store.list('/m/')).items).toEqual([a2, c]);
        expect((await store.list('/m/', { revision: at })).items).toEqual([a2, c]);
        expect(await store.get('/m/b')).toBeUndefined();
        expect(await store.count('/m/')).toBe(2);
        const it = watchFrom('/m/', at);
        const a3 = await store.update('/m/a', { v: 3 }, a2.modRevision);
        expect(await nextChanges(it, 1)).toEqual([{ type: 'put', kv: a3, prev: a2 }]);
      });

      it('compacting through a delete at the head keeps the revision counter', async () => {
        await store.create('/m/a', {});
        const del = await store.delete('/m/a');
        await store.compact(del.modRevision);
        expect(await store.currentRevision()).toBe(del.modRevision);
        expect(await store.get('/m/a')).toBeUndefined();
        const next = await store.create('/m/a', { again: true });
        expect(next.modRevision).toBeGreaterThan(del.modRevision);
        expect(next.createRevision).toBe(next.modRevision);
      });
    });

    it('answers Unavailable once closed', async () => {
      await store.create('/u/a', {});
      await store.close();
      await expectReason(store.get('/u/a'), 'Unavailable');
      await expectReason(store.list('/u/'), 'Unavailable');
      await expectReason(store.create('/u/b', {}), 'Unavailable');
      await expectReason(store.currentRevision(), 'Unavailable');
      await expectReason(nextChanges(store.watch('/u/', 0)[Symbol.asyncIterator](), 1), 'Unavailable');
    });

    it('counts every increment of 16 concurrent read-modify-write loops on one key', async () => {
      await store.create('/counter', { n: 0 });
      let conflicts = 0;
      const loop = async () => {
        for (let done = 0; done < 25; ) {
          const kv = (await store.get('/counter'))!;
          try {
            await store.update('/counter', { n: (kv.value.n as number) + 1 }, kv.modRevision);
            done++;
          } catch (err) {
            if (!isStoreError(err, 'Conflict')) throw err;
            conflicts++;
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, loop));
      expect((await store.get('/counter'))?.value).toEqual({ n: 400 });
      expect(conflicts).toBeGreaterThan(0);
    }, 4 * SLOW); // ~6,000 round trips with conflicts: an emulator on a busy machine needs minutes

    it('reopen (when the harness supports it) keeps values, tombstones, the compacted revision and the counter', async () => {
      if (!h.reopen) return; // this adapter's harness cannot reopen: there is nothing to show
      const a1 = await store.create('/o/a', { v: 1 });
      const a2 = await store.update('/o/a', { v: 2 }, a1.modRevision);
      const b = await store.create('/o/b', { v: 1 });
      await store.compact(b.modRevision);
      const del = await store.delete('/o/b');
      store = await h.reopen();
      expect(await store.currentRevision()).toBe(del.modRevision);
      expect(await store.compactedRevision()).toBe(b.modRevision);
      expect((await store.list('/o/')).items).toEqual([a2]);
      expect(await store.get('/o/b', { revision: b.modRevision })).toEqual(b);
      const next = await store.create('/o/c', {});
      expect(next.modRevision).toBeGreaterThan(del.modRevision);
    });
  });
}

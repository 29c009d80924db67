/**
 * The Cosmos DB emulator with its journal (local/cosmos-journal.ts), as `coracle up --instances`
 * runs it: the Store contract suite through the real SDK where `reopen` *restarts the emulator*
 * from its journal (so values, tombstones, the compacted revision and the counter come back from
 * disk), an emulator opened from the journal of one still running (what a `kill -9` leaves:
 * nothing but what was appended before each answer), a torn last line, and compaction on start.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeStoreContract } from '../shared/store/contract.js';
import { openCosmosStore, type CosmosStore } from '../adapters/store/cosmos/index.js';
import { startCosmosServer, type CosmosServer } from './support/cosmos-server.js';
import { readJournal } from '../local/cosmos-journal.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function journalFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cosmos-journal-'));
  dirs.push(dir);
  return path.join(dir, 'cosmos.journal');
}

const open = (server: CosmosServer) =>
  openCosmosStore({ endpoint: server.endpoint, key: server.key, databaseId: 'coracle', containerId: 'store', cluster: 'c1', watchPollIntervalMs: 20 });

describeStoreContract(
  'cosmos (emulator with its journal; reopen restarts the emulator)',
  async () => {
    const journal = journalFile();
    let server = await startCosmosServer({ journal });
    let store: CosmosStore = await open(server);
    return {
      store,
      reopen: async () => {
        await store.close();
        await server.stop();
        server = await startCosmosServer({ journal });
        store = await open(server);
        return store;
      },
      destroy: async () => {
        await store.close();
        await server.stop();
      },
    };
  },
  { atomicWrites: false, ttl: false },
);

describe('the emulator\'s journal', () => {
  it('an emulator opened from the journal of one still running has every acknowledged write (what kill -9 leaves)', async () => {
    const journal = journalFile();
    const first = await startCosmosServer({ journal });
    const a = await open(first);
    const written = [];
    for (let i = 0; i < 50; i++) written.push(await a.create(`/k/${i}`, { i }));
    const updated = await a.update('/k/7', { i: 'seven' }, written[7]!.modRevision);
    const deleted = await a.delete('/k/9');
    // No close, no stop: the first emulator is still running when the second reads the file.
    const second = await startCosmosServer({ journal });
    const b = await open(second);
    try {
      const list = await b.list('/k/');
      expect(list.items).toHaveLength(49);
      expect(list.items.find((o) => o.key === '/k/7')).toEqual(updated);
      expect(await b.get('/k/9')).toBeUndefined();
      expect(await b.currentRevision()).toBe(deleted.modRevision);
      const next = await b.create('/k/new', {});
      expect(next.modRevision).toBe(deleted.modRevision + 1);
    } finally {
      await b.close();
      await a.close();
      await second.stop();
      await first.stop();
    }
  }, 60_000);

  it('drops a torn last line, refuses a damaged one in the middle, and compacts on start', async () => {
    const journal = journalFile();
    let server = await startCosmosServer({ journal });
    let store = await open(server);
    let prev = await store.create('/c/x', { n: 0 });
    for (let n = 1; n <= 30; n++) prev = await store.update('/c/x', { n }, prev.modRevision);
    await store.close();
    await server.stop();
    const before = statSync(journal).size;
    appendFileSync(journal, '{"t":"put","db":"coracle","coll":"st'); // a crash in the middle of an append
    server = await startCosmosServer({ journal });
    store = await open(server);
    expect((await store.get('/c/x'))?.value).toEqual({ n: 30 });
    await store.close();
    await server.stop();
    // Compacted: 31 writes of one object leave one current item plus what history the store keeps.
    expect(statSync(journal).size).toBeLessThan(before);
    expect(readJournal(journal).filter((e) => e.t === 'del')).toEqual([]);
    // The replay itself is not journaled: a start with no writes leaves the file as it was.
    const compacted = statSync(journal).size;
    await (await startCosmosServer({ journal })).stop();
    expect(statSync(journal).size).toBe(compacted);
    const lines = readFileSync(journal, 'utf8').split('\n');
    writeFileSync(journal, [lines[0], 'not json', ...lines.slice(1)].join('\n'));
    await expect(startCosmosServer({ journal })).rejects.toThrow(/line 2 is not a journal entry/);
  }, 60_000);
});

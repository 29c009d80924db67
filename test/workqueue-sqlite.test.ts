/**
 * The embedded SQLite queue against the WorkQueue contract, on a temporary file and in memory;
 * plus what only a file can show: durability across reopen, refusing foreign files, and a second
 * connection (another process's view) taking part without double delivery.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWorkQueueContract } from '../shared/workqueue/contract.js';
import { openSqliteWorkQueue } from '../adapters/workqueue/sqlite/index.js';
import type { WorkQueueSettings } from '../shared/workqueue/queue.js';

const settings: WorkQueueSettings = { lockDurationMs: 1_000, maxDeliveryCount: 3 };
const tempDir = () => mkdtempSync(join(tmpdir(), 'coracle-queue-'));

describeWorkQueueContract(
  'sqlite file',
  async () => {
    const dir = tempDir();
    const queue = await openSqliteWorkQueue({ path: join(dir, 'queue.db'), settings });
    return {
      queue,
      destroy: async () => {
        await queue.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  settings,
);

describeWorkQueueContract(
  'sqlite :memory:',
  async () => {
    const queue = await openSqliteWorkQueue({ path: ':memory:', settings });
    return { queue, destroy: () => queue.close() };
  },
  settings,
);

describe('sqlite queue files', () => {
  it('keeps sent and dead-lettered messages across a reopen', async () => {
    const dir = tempDir();
    const path = join(dir, 'queue.db');
    const first = await openSqliteWorkQueue({ path, settings });
    await first.send('node-a', { name: 'pod-1' });
    await first.send('node-a', { name: 'pod-2' });
    await first.send('node-b', { name: 'pod-3' });
    const [bad] = await first.receive('node-b');
    await first.deadLetter('node-b', bad!, 'broken');
    await first.close();

    const second = await openSqliteWorkQueue({ path, settings });
    const got = await second.receive('node-a', { maxMessages: 10 });
    expect(got.map((m) => m.body)).toEqual([{ name: 'pod-1' }, { name: 'pod-2' }]);
    expect(await second.deadLetters('node-b')).toEqual([{ messageId: bad!.messageId, body: { name: 'pod-3' }, deliveryCount: 1, reason: 'broken' }]);
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a lock held when the process stopped expires and the message comes back', async () => {
    const dir = tempDir();
    const path = join(dir, 'queue.db');
    const first = await openSqliteWorkQueue({ path, settings });
    await first.send('n', { name: 'p' });
    const [held] = await first.receive('n');
    await first.close();
    const second = await openSqliteWorkQueue({ path, settings });
    expect(await second.receive('n')).toEqual([]);
    const [again] = await second.receive('n', { waitMs: 3_000 });
    expect(again).toMatchObject({ messageId: held!.messageId, deliveryCount: 2 });
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two connections to one file share the work: a waiting receive on one sees a send on the other', async () => {
    const dir = tempDir();
    const path = join(dir, 'queue.db');
    const a = await openSqliteWorkQueue({ path, settings, pollIntervalMs: 200 });
    const b = await openSqliteWorkQueue({ path, settings, pollIntervalMs: 200 });
    const waiting = b.receive('n', { waitMs: 5_000 });
    await a.send('n', { name: 'p' });
    const [got] = await waiting;
    expect(got?.body).toEqual({ name: 'p' });
    expect(await a.receive('n')).toEqual([]);
    await b.complete('n', got!);
    await Promise.all([a.close(), b.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a file of garbage bytes and another application\'s database, naming the file', async () => {
    const dir = tempDir();
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, Buffer.alloc(8192, 0x5a));
    await expect(openSqliteWorkQueue({ path: garbage })).rejects.toThrow(garbage);
    const { openSqliteStore } = await import('../adapters/store/sqlite/index.js');
    const storeFile = join(dir, 'store.db');
    await (await openSqliteStore({ path: storeFile })).close();
    await expect(openSqliteWorkQueue({ path: storeFile })).rejects.toThrow(/not a Coracle queue/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers BadRequest for a bad body, queue name or batch size', async () => {
    const queue = await openSqliteWorkQueue({ path: ':memory:' });
    await expect(queue.send('', { a: 1 })).rejects.toMatchObject({ reason: 'BadRequest' });
    await expect(queue.send('n', [] as unknown as Record<string, unknown>)).rejects.toMatchObject({ reason: 'BadRequest' });
    await expect(queue.receive('n', { maxMessages: 0 })).rejects.toMatchObject({ reason: 'BadRequest' });
    await queue.close();
  });
});

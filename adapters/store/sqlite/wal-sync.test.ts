import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from './wal-sync.js';

/** A sync that completes only when the test says so, counting how many were started. */
function manualSync() {
  const started: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  const datasync = () => new Promise<void>((resolve, reject) => started.push({ resolve, reject }));
  return { started, datasync };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WalSync', () => {
  it('coalesces commits made during a sync into one next sync, resolved in order', async () => {
    const m = manualSync();
    const sync = new WalSync('/unused', m.datasync);
    const order: string[] = [];
    const first = sync.afterCommit().then(() => order.push('first'));
    const second = sync.afterCommit().then(() => order.push('second'));
    const third = sync.afterCommit().then(() => order.push('third'));
    expect(m.started).toHaveLength(1);
    m.started[0]!.resolve();
    await first;
    await tick();
    // The later commits need a sync that started after them: one more, shared.
    expect(m.started).toHaveLength(2);
    expect(order).toEqual(['first']);
    m.started[1]!.resolve();
    await Promise.all([second, third]);
    expect(order).toEqual(['first', 'second', 'third']);
    expect(m.started).toHaveLength(2);
  });

  it('rejects the commits a failed sync covered, and the next commit syncs again', async () => {
    const m = manualSync();
    const sync = new WalSync('/unused', m.datasync);
    const failed = sync.afterCommit();
    m.started[0]!.reject(new Error('EIO'));
    await expect(failed).rejects.toThrow('EIO');
    await tick();
    const next = sync.afterCommit();
    expect(m.started).toHaveLength(2);
    m.started[1]!.resolve();
    await expect(next).resolves.toBeUndefined();
  });

  it('fdatasyncs a real file, and a missing file fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'walsync-'));
    const wal = join(dir, 'db-wal');
    writeFileSync(wal, 'frames');
    const sync = new WalSync(wal);
    await expect(Promise.all([sync.afterCommit(), sync.afterCommit()])).resolves.toHaveLength(2);
    await sync.close();
    await expect(new WalSync(join(dir, 'missing-wal')).afterCommit()).rejects.toThrow(/ENOENT/);
  });
});

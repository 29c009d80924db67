/**
 * The data folder is its owner's only (issue 15): 0700, every file in it 0600, also when an
 * earlier version left it 0755 with 0644 databases, and the SQLite files created later (WAL,
 * SHM) inherit the databases' 0600.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import Database from 'better-sqlite3';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DATABASES, prepareDataDir } from './data-dir.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'coracle-datadir-'));
  dirs.push(d);
  return d;
}
// prepareDataDir makes the cluster CA and serving keys (RSA in JavaScript): seconds on a busy 2-core machine.
jest.setTimeout(30_000);
const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('prepareDataDir', () => {
  it('creates a 0700 folder whose files are all 0600, databases included', async () => {
    const dir = path.join(await tempDir(), 'data');
    await prepareDataDir(dir);
    expect(await mode(dir)).toBe(0o700);
    const files = await readdir(dir);
    expect(files).toEqual(expect.arrayContaining(['ca.crt', 'ca.key', 'apiserver.crt', 'apiserver.key', 'tokens.csv', ...DATABASES]));
    for (const f of files) expect([f, await mode(path.join(dir, f))]).toEqual([f, 0o600]);
  });

  it('tightens a folder an earlier version left 0755 with 0644 files, and the WAL/SHM SQLite makes later are 0600', async () => {
    const dir = await tempDir();
    await prepareDataDir(dir);
    await chmod(dir, 0o755);
    for (const f of await readdir(dir)) await chmod(path.join(dir, f), 0o644);
    await writeFile(path.join(dir, 'kubeconfig'), 'old\n', { mode: 0o644 });
    await mkdir(path.join(dir, 'azurite'), { mode: 0o755 });
    await prepareDataDir(dir);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(path.join(dir, 'azurite'))).toBe(0o700);
    for (const f of (await readdir(dir)).filter((f) => f !== 'azurite')) expect([f, await mode(path.join(dir, f))]).toEqual([f, 0o600]);
    const db = new Database(path.join(dir, 'coracle.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    expect(await mode(path.join(dir, 'coracle.db-wal'))).toBe(0o600);
    expect(await mode(path.join(dir, 'coracle.db-shm'))).toBe(0o600);
    db.close();
  });

  it('still names a store that is a folder', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'coracle.db'));
    await expect(prepareDataDir(dir)).rejects.toThrow(`${path.join(dir, 'coracle.db')}: is not a file`);
  });
});

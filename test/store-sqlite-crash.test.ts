/**
 * An acknowledged write survives `kill -9`: a child process storms the SQLite store, printing
 * every write it has had acknowledged; it is SIGKILLed mid-storm, and every printed write must be
 * in the file when it is reopened. The child runs the compiled adapter (dist/), which `npm test`
 * builds first.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openSqliteStore, type SqliteDurability } from '../adapters/store/sqlite/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const COMPILED = join(ROOT, 'dist/adapters/store/sqlite/index.js');
const CHILD = join(ROOT, 'test/store-sqlite-crash-child.mjs');

interface Acknowledged {
  keys: string[];
  counter: number;
}

/** storm runs the child until it has printed `writes` acknowledgements, then SIGKILLs it. */
function storm(path: string, durability: SqliteDurability, writes: number): Promise<Acknowledged> {
  const child = spawn(process.execPath, [CHILD, pathToFileURL(COMPILED).href, path, durability], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked: Acknowledged = { keys: [], counter: -1 };
  let pending = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop()!; // a partial line was not fully acknowledged to us: ignore it
    for (const line of lines) {
      const [kind, value] = line.split(' ');
      if (kind === 'key') acked.keys.push(value);
      else acked.counter = Math.max(acked.counter, Number(value));
    }
    if (acked.keys.length >= writes) child.kill('SIGKILL');
  });
  return new Promise((resolvePromise, reject) => {
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolvePromise(acked);
      else reject(new Error(`the storm ended by itself (code ${code}): ${stderr}`));
    });
  });
}

describe('sqlite store durability', () => {
  it.each<SqliteDurability>(['full', 'normal'])(
    'keeps every acknowledged write after kill -9 (durability %s)',
    async (durability) => {
      if (!existsSync(COMPILED)) throw new Error(`${COMPILED} is missing: run \`npm run build\` first`);
      const dir = mkdtempSync(join(tmpdir(), 'coracle-crash-'));
      const path = join(dir, 'store.db');
      try {
        const acked = await storm(path, durability, 3_000);
        expect(acked.keys.length).toBeGreaterThanOrEqual(3_000);
        const store = await openSqliteStore({ path });
        const missing: string[] = [];
        for (const key of acked.keys) if (!(await store.get(key))) missing.push(key);
        expect(missing).toEqual([]);
        const counter = await store.get('/crash/counter');
        expect(counter?.value.n).toBeGreaterThanOrEqual(acked.counter);
        // The reopened store keeps working after the crash.
        const after = await store.create('/crash/after', {});
        expect(after.modRevision).toBeGreaterThan(counter!.modRevision);
        await store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

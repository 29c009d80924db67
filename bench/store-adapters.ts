/**
 * The Store adapters the benchmark runs. To add one, create `bench/<name>-entry.ts` exporting
 * `benchEntry: BenchStoreEntry` and list its module in OPTIONAL_ENTRIES; a module that is absent
 * (not built) is skipped with a note.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../adapters/store/sqlite/index.js';
import type { BenchStoreEntry } from './targets.js';

/** sqliteEntry opens a fresh file store in a temporary folder (WAL, synchronous=FULL). */
export const sqliteEntry: BenchStoreEntry = {
  name: 'sqlite',
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coracle-bench-'));
    const store = await openSqliteStore({ path: join(dir, 'store.db') });
    return {
      store,
      destroy: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Modules (relative to this file) that export `benchEntry`, loaded when present. */
const OPTIONAL_ENTRIES = ['./store-cosmos-entry.js'];

/** benchStoreEntries lists sqlite and every optional entry that is present. */
export async function benchStoreEntries(): Promise<BenchStoreEntry[]> {
  const entries = [sqliteEntry];
  for (const specifier of OPTIONAL_ENTRIES) {
    if (!existsSync(new URL(specifier, import.meta.url))) {
      console.log(`(no ${specifier}: that adapter is not benchmarked)`);
      continue;
    }
    const module = (await import(specifier)) as { benchEntry: BenchStoreEntry };
    entries.push(module.benchEntry);
  }
  return entries;
}

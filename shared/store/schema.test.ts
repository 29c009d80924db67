import { describe, expect, it } from '@jest/globals';
import { appliedNow, latestVersion, pendingMigrations, StorageSchemaError, type SchemaMigration } from './schema.js';

const m = (version: number): SchemaMigration<string[]> => ({ version, description: `step ${version}`, apply: (log) => void log.push(`v${version}`) });

describe('storage schema migrations', () => {
  it('answers what a store at a version lacks, in order', () => {
    const list = [m(1), m(2), m(3)];
    expect(latestVersion(list)).toBe(3);
    expect(pendingMigrations(list, 0, 'the store').map((x) => x.version)).toEqual([1, 2, 3]);
    expect(pendingMigrations(list, 2, 'the store').map((x) => x.version)).toEqual([3]);
    expect(pendingMigrations(list, 3, 'the store')).toEqual([]);
  });

  it('refuses a store newer than the program, naming both versions', () => {
    const err = (() => {
      try {
        pendingMigrations([m(1), m(2)], 3, 'the store file');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StorageSchemaError);
    expect((err as StorageSchemaError).message).toBe("the store file is at storage schema version 3, newer than this release's (2): a newer release wrote it; run that release or a later one (a control plane never moves back)");
  });

  it('refuses a list with a gap or out of order', () => {
    expect(() => latestVersion([m(1), m(3)])).toThrow('schema migration 2 is numbered 3');
    expect(() => latestVersion([m(2), m(1)])).toThrow('schema migration 1 is numbered 2');
  });

  it('records who applied a migration and when, to the second', () => {
    expect(appliedNow(m(2), 'v1.35.1-coracle', new Date('2026-12-07T10:11:12.345Z'))).toEqual({ version: 2, description: 'step 2', appliedAt: '2026-12-07T10:11:12Z', release: 'v1.35.1-coracle' });
  });
});

/**
 * The ReleaseCatalogStore contract suite (shared/release/catalog.ts): the local catalog
 * (local/releases.test.ts) and the blob one on Azurite (test/releases-blob.test.ts) run it through
 * the port alone. Excluded from the build.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ReleaseCatalogError, type ReleaseCatalogStore } from './catalog.js';

/** ReleaseCatalogHarness is one empty catalog for one test. */
export interface ReleaseCatalogHarness {
  catalog: ReleaseCatalogStore;
  /** The running build's version (always listed). */
  installed: string;
  /** packageOf makes a release package file stamped `version`, in the adapter's format (tarball, zip). */
  packageOf(version: string): Promise<string>;
  /** notAPackage makes a file that is not a release package. */
  notAPackage(): Promise<string>;
  destroy(): Promise<void>;
}

const reasonOf = (err: unknown) => (err instanceof ReleaseCatalogError ? err.reason : `not a ReleaseCatalogError: ${String(err)}`);

/** describeReleaseCatalogContract runs the contract against catalogs made by `make`. */
export function describeReleaseCatalogContract(name: string, make: () => Promise<ReleaseCatalogHarness>): void {
  describe(`ReleaseCatalogStore contract: ${name}`, () => {
    let h: ReleaseCatalogHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.destroy();
    });

    it('lists the running build alone when nothing was added', async () => {
      expect(await h.catalog.list()).toEqual([h.installed]);
    });

    it('adds packages under the version of their stamp and lists every version once, oldest first', async () => {
      expect(await h.catalog.add(await h.packageOf('v1.36.0-coracle'))).toBe('v1.36.0-coracle');
      expect(await h.catalog.add(await h.packageOf('v1.35.9-coracle'))).toBe('v1.35.9-coracle');
      expect(await h.catalog.list()).toEqual([h.installed, 'v1.35.9-coracle', 'v1.36.0-coracle']);
    });

    it('refuses a version already catalogued, and the running one, as AlreadyExists', async () => {
      await h.catalog.add(await h.packageOf('v1.35.9-coracle'));
      await expect(h.catalog.add(await h.packageOf('v1.35.9-coracle')).catch(reasonOf)).resolves.toBe('AlreadyExists');
      await expect(h.catalog.add(await h.packageOf(h.installed)).catch(reasonOf)).resolves.toBe('AlreadyExists');
      expect(await h.catalog.list()).toEqual([h.installed, 'v1.35.9-coracle']);
    });

    it('refuses a file that is not a release package as Invalid, and lists nothing new', async () => {
      await expect(h.catalog.add(await h.notAPackage()).catch(reasonOf)).resolves.toBe('Invalid');
      expect(await h.catalog.list()).toEqual([h.installed]);
    });
  });
}

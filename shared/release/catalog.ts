/**
 * The ReleaseCatalogStore port: where the release packages a cluster can move to are kept. Locally
 * it is the data folder's `releases/` (local/releases.ts: `npm pack` tarballs unpacked); on Azure
 * a blob container of the deployment storage account (adapters/releases/blob.ts: the function
 * app's package zips, each with its version in the blob's metadata). The control plane only
 * lists it (shared/upgrade/admission.ts' ReleaseCatalog); `coracle release add|publish` adds to it.
 *
 * Contract (shared/release/catalog-contract.ts runs it on both adapters):
 * - `list()` answers every version the control plane may move to, the running build's included,
 *   oldest first, each once. It reads the store on each call (a release may be added while the
 *   cluster serves).
 * - `add(file)` adds one release package and resolves with its version, read from the package's
 *   own stamp (`dist/shared/release/version.json`), never from its file name. Refused with a
 *   ReleaseCatalogError: a file that is not a release package or holds no stamp (Invalid), a
 *   version already in the catalog or the running one (AlreadyExists).
 */

/** ReleaseCatalogError is a refused catalog operation (bad package, unknown or duplicate version). */
export class ReleaseCatalogError extends Error {
  constructor(readonly reason: 'Invalid' | 'NotFound' | 'AlreadyExists', message: string) {
    super(message);
    this.name = 'ReleaseCatalogError';
  }
}

/** ReleaseCatalogStore is the port; see the module comment for its contract. */
export interface ReleaseCatalogStore {
  list(): Promise<string[]>;
  add(file: string): Promise<string>;
}

/** RELEASE_STAMP_PATH is where a built package keeps its version stamp (POSIX separators, as in a zip or tarball). */
export const RELEASE_STAMP_PATH = 'dist/shared/release/version.json';

/**
 * The release catalog on Azure (shared/release/catalog.ts' ReleaseCatalogStore): a blob container
 * of the deployment storage account (`releases`, infra/modules/storage.bicep) holding one block
 * blob per release, `coracle-<version>.zip` — the function app's package zip exactly as Flex
 * Consumption deploys it (host.json, package.json, dist, node_modules) — with the version in the
 * blob's metadata (`releaseversion`), read from the zip's own stamp when it is published. Listing
 * reads names and metadata only, never a package.
 */
import AdmZip from 'adm-zip';
import type { ContainerClient } from '@azure/storage-blob';
import { RELEASE_STAMP_PATH, ReleaseCatalogError, type ReleaseCatalogStore } from '../../shared/release/catalog.js';
import { compareVersions, parseReleaseVersion } from '../../shared/release/version.js';

/** VERSION_METADATA is the metadata key of a release blob's version (metadata keys are C# identifiers). */
export const VERSION_METADATA = 'releaseversion';

/** releaseBlobName is the blob of release `version` in the catalog container. */
export function releaseBlobName(version: string): string {
  return `coracle-${version}.zip`;
}

/** stampOfZip reads the version stamp of a package zip; Invalid when the file is no zip or holds no stamp. */
export function stampOfZip(file: string): string {
  let text: string | undefined;
  try {
    text = new AdmZip(file).getEntry(RELEASE_STAMP_PATH)?.getData().toString('utf8');
  } catch (err) {
    throw new ReleaseCatalogError('Invalid', `${file} is not a release package: ${(err as Error).message}`);
  }
  if (text === undefined) throw new ReleaseCatalogError('Invalid', `${file} is not a release package: it holds no ${RELEASE_STAMP_PATH}`);
  let version: unknown;
  try {
    version = (JSON.parse(text) as { version?: unknown }).version;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'string' || !parseReleaseVersion(version)) throw new ReleaseCatalogError('Invalid', `${file}: ${RELEASE_STAMP_PATH} holds no release version`);
  return version;
}

/** BlobReleaseCatalogOptions: the catalog container and the running build's version (listed always; undefined for a publisher, which runs no control plane). */
export interface BlobReleaseCatalogOptions {
  container: ContainerClient;
  installed?: string;
}

/**
 * blobReleaseCatalog is the ReleaseCatalogStore on `container`. It never creates the container
 * (the deployment does; the app's identity has a data role on it, not on the account).
 */
export function blobReleaseCatalog({ container, installed }: BlobReleaseCatalogOptions): ReleaseCatalogStore {
  return {
    list: async () => {
      const versions = new Set(installed ? [installed] : []);
      for await (const blob of container.listBlobsFlat({ includeMetadata: true })) {
        const version = blob.metadata?.[VERSION_METADATA];
        if (version && parseReleaseVersion(version) && blob.name === releaseBlobName(version)) versions.add(version);
      }
      return [...versions].sort(compareVersions);
    },
    add: async (file) => {
      const version = stampOfZip(file);
      const already = () => new ReleaseCatalogError('AlreadyExists', `release ${version} is already in the catalog`);
      if (version === installed) throw already();
      await container.getBlockBlobClient(releaseBlobName(version)).uploadFile(file, {
        metadata: { [VERSION_METADATA]: version },
        blobHTTPHeaders: { blobContentType: 'application/zip' },
        conditions: { ifNoneMatch: '*' }, // never replace a published release
      }).catch((err: { statusCode?: number }) => {
        throw err.statusCode === 409 ? already() : err;
      });
      return version;
    },
  };
}

/**
 * The data folder's release catalog (local/releases.ts) through the ReleaseCatalogStore contract:
 * packages are real gzip tarballs laid out as `npm pack` makes them (`package/…`), around a
 * stand-in build folder stamped with this build's version.
 */
import { create } from 'tar';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeReleaseCatalogContract } from '../shared/release/catalog-contract.js';
import { RELEASE_VERSION } from '../shared/release/version.js';
import { localReleaseCatalog } from './releases.js';

/** writeBuild writes what the catalog reads of a build: package.json and the version stamp. */
async function writeBuild(root: string, version: string): Promise<void> {
  await mkdir(path.join(root, 'dist', 'shared', 'release'), { recursive: true });
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'coracle', dependencies: { tar: '^8.0.0' } }));
  await writeFile(path.join(root, 'dist', 'shared', 'release', 'version.json'), JSON.stringify({ version }));
}

describeReleaseCatalogContract('local data folder', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-releases-'));
  const appDir = path.join(dir, 'app');
  await writeBuild(appDir, RELEASE_VERSION);
  await mkdir(path.join(appDir, 'node_modules'));
  let n = 0;
  return {
    catalog: localReleaseCatalog(path.join(dir, 'data'), appDir),
    installed: RELEASE_VERSION,
    packageOf: async (version) => {
      const staging = path.join(dir, `staging-${++n}`);
      await writeBuild(path.join(staging, 'package'), version);
      const file = path.join(dir, `coracle-${n}.tgz`);
      await create({ gzip: true, file, cwd: staging }, ['package']);
      return file;
    },
    notAPackage: async () => {
      const file = path.join(dir, 'notes.tgz');
      await writeFile(file, 'not a tarball');
      return file;
    },
    destroy: () => rm(dir, { recursive: true, force: true }),
  };
});

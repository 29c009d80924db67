/**
 * The local release catalog: release packages of this project (`npm pack` tarballs holding the
 * built app, its `dist/shared/release/version.json` naming the version) unpacked under
 * `<data>/releases/<version>/package/`, from which a node agent (or the host) at that version runs.
 *
 * A release unpacked here shares the installed `node_modules` (a symlink to the running build's):
 * nothing can be fetched from a registry at upgrade time, so a release whose package.json asks for
 * other dependencies than the installed ones is refused by `addRelease`, with the difference named.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { extract } from 'tar';
import { RELEASE_VERSION, compareVersions, parseReleaseVersion } from '../shared/release/version.js';
import { RELEASE_STAMP_PATH, ReleaseCatalogError, type ReleaseCatalogStore } from '../shared/release/catalog.js';

export { ReleaseCatalogError };

const run = promisify(execFile);

/** RELEASES_DIR is the catalog's folder in the data folder. */
export const RELEASES_DIR = 'releases';
/** STAMP_PATH is where a built package keeps its version stamp. */
const STAMP_PATH = path.join(...RELEASE_STAMP_PATH.split('/'));
/** What a release package holds of the project (besides package.json and README.md, which npm always packs). */
const PACKAGE_CONTENTS = ['dist', 'host.json', 'images'];

/** Release is one version the catalog can run. */
export interface Release {
  version: string;
  /** The package root (holds package.json, dist/). */
  root: string;
  /** `installed`: the running build itself; `catalog`: unpacked under the data folder. */
  source: 'installed' | 'catalog';
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** stampOf reads the version a package root was built as. */
export async function stampOf(root: string): Promise<string> {
  const version = (await readJson(path.join(root, STAMP_PATH))).version;
  if (typeof version !== 'string' || !parseReleaseVersion(version)) throw new ReleaseCatalogError('Invalid', `${path.join(root, STAMP_PATH)} holds no release version`);
  return version;
}

/**
 * packRelease makes a release package of the built project at `appDir` (it must be built) stamped
 * `version`, with `npm pack`, into `outDir`; resolves with the tarball's path. Tests build two
 * releases from one source this way; a real release is the same command run on a tagged build.
 */
export async function packRelease(appDir: string, version: string, outDir: string): Promise<string> {
  if (!parseReleaseVersion(version)) throw new ReleaseCatalogError('Invalid', `"${version}" is not a release version (vMAJOR.MINOR.PATCH[-suffix])`);
  if (!(await exists(path.join(appDir, STAMP_PATH)))) throw new ReleaseCatalogError('Invalid', `${appDir} is not built (no ${STAMP_PATH}): run npm run build`);
  const staging = await mkdtemp(path.join(os.tmpdir(), 'coracle-release-'));
  try {
    for (const entry of ['package.json', 'README.md', ...PACKAGE_CONTENTS]) {
      if (await exists(path.join(appDir, entry))) await cp(path.join(appDir, entry), path.join(staging, entry), { recursive: true });
    }
    await writeFile(path.join(staging, STAMP_PATH), `${JSON.stringify({ version })}\n`);
    await mkdir(outDir, { recursive: true });
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', path.resolve(outDir)], { cwd: staging, maxBuffer: 64 * 1024 * 1024 });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    const target = path.join(path.resolve(outDir), `coracle-${version}.tgz`);
    await rename(path.join(path.resolve(outDir), packed!.filename), target);
    return target;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** dependencyDifference names the dependencies a release's package.json asks for that differ from the installed ones. */
function dependencyDifference(wanted: unknown, installed: unknown): string[] {
  const a = (wanted ?? {}) as Record<string, string>;
  const b = (installed ?? {}) as Record<string, string>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort().map((k) => `${k}: ${b[k] ?? 'absent'} installed, ${a[k] ?? 'absent'} wanted`);
}

/**
 * addRelease unpacks release package `tgz` into the catalog of `dataDir` and resolves with it.
 * Refused: a package without a version stamp, one asking for other dependencies than `appDir`'s
 * (Invalid), a version already catalogued or installed (AlreadyExists).
 */
export async function addRelease(dataDir: string, tgz: string, appDir: string): Promise<Release> {
  const catalog = path.join(dataDir, RELEASES_DIR);
  await mkdir(catalog, { recursive: true, mode: 0o700 });
  const unpacked = await mkdtemp(path.join(catalog, '.adding-'));
  try {
    await extract({ file: tgz, cwd: unpacked }).catch((err: Error) => {
      throw new ReleaseCatalogError('Invalid', `${tgz} is not a release package: ${err.message}`);
    });
    const root = path.join(unpacked, 'package');
    const version = await stampOf(root).catch((err: Error) => {
      throw new ReleaseCatalogError('Invalid', `${tgz} is not a release package: ${err.message}`);
    });
    const differences = dependencyDifference((await readJson(path.join(root, 'package.json'))).dependencies, (await readJson(path.join(appDir, 'package.json'))).dependencies);
    if (differences.length > 0) throw new ReleaseCatalogError('Invalid', `release ${version} needs other dependencies than those installed (${differences.join('; ')}); install that release's build instead`);
    if (version === RELEASE_VERSION || (await exists(path.join(catalog, version)))) throw new ReleaseCatalogError('AlreadyExists', `release ${version} is already in the catalog`);
    await symlink(path.join(appDir, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    await rename(unpacked, path.join(catalog, version));
    return { version, root: path.join(catalog, version, 'package'), source: 'catalog' };
  } finally {
    await rm(unpacked, { recursive: true, force: true });
  }
}

/** listReleases lists the installed build and every catalogued release, oldest first. */
export async function listReleases(dataDir: string, appDir: string): Promise<Release[]> {
  const releases: Release[] = [{ version: await stampOf(appDir), root: appDir, source: 'installed' }];
  const catalog = path.join(dataDir, RELEASES_DIR);
  const entries = await readdir(catalog).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!parseReleaseVersion(entry) || releases.some((r) => r.version === entry)) continue;
    releases.push({ version: entry, root: path.join(catalog, entry, 'package'), source: 'catalog' });
  }
  return releases.sort((a, b) => compareVersions(a.version, b.version));
}

/** releaseEntry is the `coracle` command of release `version` (to run an agent or host from it); NotFound if not catalogued. */
export async function releaseEntry(dataDir: string, appDir: string, version: string): Promise<string> {
  const release = (await listReleases(dataDir, appDir)).find((r) => r.version === version);
  if (!release) throw new ReleaseCatalogError('NotFound', `release ${version} is not in the catalog (coracle release add <package.tgz>)`);
  return path.join(release.root, 'dist', 'cli', 'coracle.js');
}

/**
 * localReleaseCatalog is the data folder's catalog as a ReleaseCatalogStore (shared/release/catalog.ts):
 * the installed build at `appDir` and `<dataDir>/releases`; `add` takes a release tarball.
 */
export function localReleaseCatalog(dataDir: string, appDir: string): ReleaseCatalogStore {
  return {
    list: async () => (await listReleases(dataDir, appDir)).map((r) => r.version),
    add: async (tgz) => (await addRelease(dataDir, tgz, appDir)).version,
  };
}

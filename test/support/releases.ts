/**
 * Release packages for the upgrade suites, packed once per build instead of once per file.
 * `coracle release pack` copies the build into a staging folder and runs `npm pack` on it (about
 * 5–25 s here, the longer on a loaded machine); the same build stamped with the same version is
 * the same package, so the suites that only need release B or C in a catalog share one `.tgz` for
 * the whole run. test/releases.test.ts still runs `coracle release pack` itself and checks it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT } from './cluster.js';

const runFile = promisify(execFile);

/** What `coracle release pack` puts in a package (local/releases.ts: package.json, README.md and PACKAGE_CONTENTS). */
const PACKED = ['package.json', 'README.md', 'dist', 'host.json', 'images'];
const CACHE = path.join(REPO_ROOT, '.cache', 'releases');

/** buildKey names this build: a hash of the path, size and modification time of every file a package holds. */
async function buildKey(): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const info = await stat(path.join(REPO_ROOT, rel)).catch(() => undefined);
    if (!info) return;
    if (info.isDirectory()) {
      for (const entry of (await readdir(path.join(REPO_ROOT, rel))).sort()) await walk(path.join(rel, entry));
    } else {
      hash.update(`${rel}\0${info.size}\0${info.mtimeMs}\n`);
    }
  };
  for (const entry of PACKED) await walk(entry);
  return hash.digest('hex').slice(0, 16);
}

/**
 * packedRelease returns the path of this build packed as release `version` by the real
 * `coracle release pack`, packing it the first time any suite of the run asks (the package is
 * kept under `.cache/releases/<build>/` and packed again after a rebuild). The file is only ever
 * read (`coracle release add` unpacks it): callers must not move or change it.
 */
export async function packedRelease(version: string): Promise<string> {
  const key = await buildKey();
  const dir = path.join(CACHE, key);
  const target = path.join(dir, `coracle-${version}.tgz`);
  if (await stat(target).then(() => true, () => false)) return target;
  await mkdir(dir, { recursive: true });
  // Pack aside, then rename: a suite never sees a half-written package.
  const staging = await mkdtemp(path.join(dir, '.packing-'));
  try {
    const packed = (await runFile(process.execPath, [CLI, 'release', 'pack', '--release-version', version, '--out', staging])).stdout.trim();
    await rename(packed, target);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  // Packages of earlier builds are never asked for again.
  for (const old of await readdir(CACHE)) if (old !== key) await rm(path.join(CACHE, old), { recursive: true, force: true });
  return target;
}

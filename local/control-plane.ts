/**
 * Which release a local control plane runs: `<data>/control-plane.json` ({"version": ...}),
 * written when a cluster upgrade moves the control plane (shared/release/control-plane.ts) and read
 * whenever `coracle up` starts, so that a restart — even with the original build's command, even
 * after a kill -9 mid-upgrade — comes back on the release the cluster moved to. No file: the
 * release of the `coracle` command that was run.
 */
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists } from './files.js';
import { releaseEntry, RELEASES_DIR } from './releases.js';
import type { ControlPlaneHost } from '../shared/release/control-plane.js';
import { parseReleaseVersion, RELEASE_VERSION } from '../shared/release/version.js';

const FILE = 'control-plane.json';

/** controlPlaneRelease is the release the data folder's control plane runs, or undefined when none was recorded. */
export async function controlPlaneRelease(dataDir: string): Promise<string | undefined> {
  const text = await readTextIfExists(path.join(dataDir, FILE));
  if (text === undefined) return undefined;
  const version = (JSON.parse(text) as { version?: unknown }).version;
  if (typeof version !== 'string' || !parseReleaseVersion(version)) throw new Error(`${path.join(dataDir, FILE)} names no release version`);
  return version;
}

/** recordControlPlaneRelease records `version` as the control plane's release (atomically: a crash leaves the old or the new record). */
export async function recordControlPlaneRelease(dataDir: string, version: string): Promise<void> {
  const file = path.join(dataDir, FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify({ version })}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/**
 * keepInstalledRelease makes the running build (at `appDir`, release `version`) a catalog entry
 * (a link), so that once the control plane runs another release — whose own build is then the
 * "installed" one — nodes still at this version can be started again from it.
 */
export async function keepInstalledRelease(dataDir: string, appDir: string, version: string): Promise<void> {
  const dir = path.join(dataDir, RELEASES_DIR, version);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await symlink(path.resolve(appDir), path.join(dir, 'package'), 'dir').catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
}

/** ReleaseToRun is where a release's build is: its package root (the app directory) and its `coracle` command. */
export interface ReleaseToRun {
  version: string;
  root: string;
  cli: string;
}

/** releaseToRun finds release `version` in the installed build or the catalog; a ReleaseCatalogError (NotFound) when it is in neither. */
export async function releaseToRun(dataDir: string, appDir: string, version: string): Promise<ReleaseToRun> {
  const cli = await releaseEntry(dataDir, appDir, version);
  return { version, root: path.resolve(path.dirname(cli), '..', '..'), cli };
}

/** HANDOVER_DELAY_MS lets the upgrade step that asked for the move record its answer before the processes stop. */
const HANDOVER_DELAY_MS = 1_000;

/**
 * localControlPlaneHost is the ControlPlaneHost of the single-process `coracle up` (`appDir`,
 * release RELEASE_VERSION): a move records the release in the data folder, keeps the running build
 * in the catalog (nodes still at its version restart from it), then calls `handOver` — which stops
 * this process's cluster and starts the release's own `coracle up` on the same data folder and
 * port (cli/coracle.ts).
 */
export function localControlPlaneHost(dataDir: string, appDir: string, handOver: (release: ReleaseToRun) => void): ControlPlaneHost {
  let moving: string | undefined;
  return {
    running: async () => RELEASE_VERSION,
    moveTo: async (version) => {
      if (moving === version) return;
      const release = await releaseToRun(dataDir, appDir, version);
      await keepInstalledRelease(dataDir, appDir, RELEASE_VERSION);
      await recordControlPlaneRelease(dataDir, version);
      moving = version;
      setTimeout(() => handOver(release), HANDOVER_DELAY_MS);
    },
  };
}

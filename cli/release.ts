/**
 * `coracle version` and `coracle release add|list|pack`: this build's version stamp and the local
 * release catalog (local/releases.ts) in a data folder.
 */
import { Command } from 'commander';
import { RELEASE_VERSION } from '../shared/release/version.js';
import { addRelease, listReleases, packRelease } from '../local/releases.js';
import { APP_DIR } from './up.js';

/** releaseCommands returns the `version` and `release` commands; failures go to `fail`. */
export function releaseCommands(fail: (err: unknown) => never): Command[] {
  const version = new Command('version').description('print this build\'s release version').action(() => {
    process.stdout.write(`${RELEASE_VERSION}\n`);
  });
  const release = new Command('release').description('the release catalog of a data folder: the versions a cluster can move to');
  release.command('add <package>').description('add a release package (.tgz from `coracle release pack` or npm pack) to the catalog')
    .option('--data-dir <dir>', 'data folder', '.coracle')
    .action((pkg: string, o: { dataDir: string }) => addRelease(o.dataDir, pkg, APP_DIR).then(
      (r) => void process.stdout.write(`coracle: release ${r.version} added to the catalog (${r.root})\n`), fail));
  release.command('list').description('list the installed release and the catalogued ones')
    .option('--data-dir <dir>', 'data folder', '.coracle')
    .action((o: { dataDir: string }) => listReleases(o.dataDir, APP_DIR).then(
      (rs) => void process.stdout.write(rs.map((r) => `${r.version}\t${r.source}\t${r.root}\n`).join('')), fail));
  release.command('pack').description('pack this build as a release package stamped with another version (tests and release builds)')
    .requiredOption('--release-version <version>', 'the version stamp, e.g. v1.35.1-coracle')
    .option('--out <dir>', 'where the .tgz goes', '.')
    .action((o: { releaseVersion: string; out: string }) => packRelease(APP_DIR, o.releaseVersion, o.out).then(
      (file) => void process.stdout.write(`${file}\n`), fail));
  return [version, release];
}

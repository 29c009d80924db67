/**
 * `coracle version` and `coracle release add|list|pack|publish`: this build's version stamp, the
 * local release catalog (local/releases.ts) in a data folder, and publishing to the catalog on
 * Azure (adapters/releases/blob.ts).
 */
import { Command } from 'commander';
import { RELEASE_VERSION } from '../shared/release/version.js';
import { addRelease, listReleases, packRelease, ReleaseCatalogError } from '../local/releases.js';
import { publishRelease } from '../functions/releases.js';
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
  release.command('publish <package>').description('publish a function app package zip (what the deploy workflow builds: host.json, package.json, dist, node_modules) to the release catalog on Azure')
    .requiredOption('--container-url <url>', 'the catalog\'s blob container (the deployment\'s releasesContainerUrl output), signed in as DefaultAzureCredential finds (az login, a managed identity), or a URL with a SAS')
    .option('--if-absent', 'succeed when that version is already published (a workflow run again)')
    .action((pkg: string, o: { containerUrl: string; ifAbsent?: boolean }) => publishRelease(pkg, o.containerUrl).then(
      (v) => void process.stdout.write(`coracle: release ${v} published to ${o.containerUrl.split('?')[0]}\n`),
      (err: unknown) => {
        if (o.ifAbsent && err instanceof ReleaseCatalogError && err.reason === 'AlreadyExists') return void process.stdout.write(`coracle: ${err.message}\n`);
        fail(err);
      }));
  return [version, release];
}

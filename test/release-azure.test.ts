/**
 * The Azure side of control-plane upgrades, against Azurite (local/azurite.ts) and the ARM
 * stand-in (test/support/arm-standin.ts): the blob release catalog through the
 * ReleaseCatalogStore contract (the local catalog runs the same suite in local/releases.test.ts),
 * and the Flex Consumption ControlPlaneHost (adapters/releases/flex.ts) moving the function app's
 * deployed package. No cluster is started.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import AdmZip from 'adm-zip';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient, ContainerSASPermissions, type ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/core-auth';
import { startAzurite, type Azurite } from '../local/azurite.js';
import { blobReleaseCatalog, releaseBlobName, VERSION_METADATA } from '../adapters/releases/blob.js';
import { DEPLOYED_PACKAGE, flexControlPlaneHost } from '../adapters/releases/flex.js';
import { describeReleaseCatalogContract } from '../shared/release/catalog-contract.js';
import { ReleaseCatalogError, RELEASE_STAMP_PATH } from '../shared/release/catalog.js';
import { RELEASE_VERSION } from '../shared/release/version.js';
import { publishRelease } from '../functions/releases.js';
import { releaseCatalog } from '../functions/api.js';
import { CLI } from './support/cluster.js';
import { startArmStandin, WEB_API_VERSION, type ArmStandin } from './support/arm-standin.js';

jest.setTimeout(60_000);

const run = promisify(execFile);

let azurite: Azurite;
let arm: ArmStandin;
let dir: string;
let service: BlobServiceClient;
const deploys: { site: string; body: any }[] = [];
const SUB = '00000000-0000-0000-0000-000000000001';
const SITE_ID = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/coracle-api`;
const credential: TokenCredential = { getToken: async () => ({ token: 'managed-identity-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-release-azure-'));
  azurite = await startAzurite({ location: path.join(dir, 'azurite') });
  service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  arm = await startArmStandin({ sites: ['rg/coracle-api'], onOneDeploy: (site, body) => deploys.push({ site, body }) });
});
afterAll(async () => {
  await arm?.close();
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** newContainer creates an empty container with a fresh name. */
async function newContainer(): Promise<ContainerClient> {
  const container = service.getContainerClient(`c${randomUUID().replaceAll('-', '')}`);
  await container.create();
  return container;
}

/** packageZip writes a function app package zip stamped `version` (what `zip -r coracle.zip host.json package.json dist node_modules` makes). */
async function packageZip(version: string): Promise<string> {
  const zip = new AdmZip();
  zip.addFile('host.json', Buffer.from('{"version":"2.0"}'));
  zip.addFile('package.json', Buffer.from('{"name":"coracle"}'));
  zip.addFile(RELEASE_STAMP_PATH, Buffer.from(JSON.stringify({ version })));
  zip.addFile('dist/functions/api.js', Buffer.from(`// build ${version} ${randomUUID()}`));
  const file = path.join(dir, `pkg-${randomUUID()}.zip`);
  zip.writeZip(file);
  return file;
}

describeReleaseCatalogContract('blob container (Azurite)', async () => {
  const container = await newContainer();
  return {
    catalog: blobReleaseCatalog({ container, installed: RELEASE_VERSION }),
    installed: RELEASE_VERSION,
    packageOf: packageZip,
    notAPackage: async () => {
      const file = path.join(dir, `notes-${randomUUID()}.zip`);
      await writeFile(file, 'not a zip');
      return file;
    },
    destroy: async () => void (await container.delete()),
  };
});

describe('blob release catalog', () => {
  it('keeps each release as coracle-<version>.zip with its version in the metadata, byte for byte', async () => {
    const container = await newContainer();
    const file = await packageZip('v1.35.1-coracle');
    await blobReleaseCatalog({ container, installed: RELEASE_VERSION }).add(file);
    const blob = container.getBlobClient(releaseBlobName('v1.35.1-coracle'));
    expect((await blob.getProperties()).metadata?.[VERSION_METADATA]).toBe('v1.35.1-coracle');
    expect((await blob.downloadToBuffer()).equals(await readFile(file))).toBe(true);
  });

  it('refuses a zip without a version stamp as Invalid', async () => {
    const zip = new AdmZip();
    zip.addFile('host.json', Buffer.from('{}'));
    const file = path.join(dir, 'unstamped.zip');
    zip.writeZip(file);
    const err = await blobReleaseCatalog({ container: await newContainer(), installed: RELEASE_VERSION }).add(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReleaseCatalogError);
    expect((err as ReleaseCatalogError).reason).toBe('Invalid');
    expect((err as Error).message).toContain(RELEASE_STAMP_PATH);
  });
});

describe('Flex Consumption ControlPlaneHost', () => {
  const B = 'v1.35.1-coracle';
  let releases: ContainerClient;
  let deployment: ContainerClient;
  let packageB: string;
  const hostRunning = (running: string, siteId = SITE_ID) =>
    flexControlPlaneHost({ releases, deployment, siteId, credential, running, armEndpoint: arm.endpoint, armCa: arm.ca });
  const oneDeployRequests = () => arm.requests.filter((r) => r.path.endsWith('/extensions/onedeploy'));

  beforeAll(async () => {
    releases = await newContainer();
    deployment = await newContainer();
    packageB = await packageZip(B);
    await blobReleaseCatalog({ container: releases, installed: RELEASE_VERSION }).add(packageB);
    // What the deployment workflow's config-zip left: this build's package, without a version in its metadata.
    await deployment.getBlockBlobClient(DEPLOYED_PACKAGE).uploadFile(await packageZip(RELEASE_VERSION));
  });

  it('reports the running build while the package is the one the deployment published', async () => {
    expect(await hostRunning(RELEASE_VERSION).running()).toBe(RELEASE_VERSION);
  });

  it('refuses a release not in the catalog, naming it, and deploys nothing', async () => {
    const err = await hostRunning(RELEASE_VERSION).moveTo('v1.36.7-coracle').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReleaseCatalogError);
    expect((err as Error).message).toContain('release v1.36.7-coracle is not in the catalog');
    expect(oneDeployRequests()).toHaveLength(0);
  });

  it('moves: the release\'s package becomes released-package.zip, then One Deploy; once, however often it is asked', async () => {
    const host = hostRunning(RELEASE_VERSION);
    await host.moveTo(B);
    await host.moveTo(B);
    const deployed = deployment.getBlobClient(DEPLOYED_PACKAGE);
    expect((await deployed.getProperties()).metadata?.[VERSION_METADATA]).toBe(B);
    expect((await deployed.downloadToBuffer()).equals(await releases.getBlobClient(releaseBlobName(B)).downloadToBuffer())).toBe(true);
    const requests = oneDeployRequests();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'PUT', path: `${SITE_ID}/extensions/onedeploy`, body: { properties: { packageUri: deployed.url, remoteBuild: false } } });
    expect(requests[0]!.query.get('api-version')).toBe(WEB_API_VERSION);
    expect(deploys).toEqual([{ site: 'rg/coracle-api', body: requests[0]!.body }]);
    // A process still on the old build sees the move under way; one restarted on B sees B.
    expect(await host.running()).toBeUndefined();
    expect(await hostRunning(B).running()).toBe(B);
  });

  it('fails with ARM\'s answer when the site is not there', async () => {
    const missing = SITE_ID.replace('coracle-api', 'gone');
    await expect(hostRunning(RELEASE_VERSION, missing).moveTo(B)).rejects.toThrow(/One Deploy of .*gone answered 404: ResourceNotFound/);
  });

  it('refuses a site id that is not a function app\'s', () => {
    expect(() => hostRunning(RELEASE_VERSION, '/subscriptions/x/resourceGroups/rg')).toThrow(/is not a function app's resource id/);
  });
});

describe('coracle release publish', () => {
  it('publishes a package zip to a catalog container (here by a SAS URL), which the control plane then lists', async () => {
    const container = await newContainer();
    const sasUrl = await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('racwl'), expiresOn: new Date(Date.now() + 3_600_000) });
    expect(await publishRelease(await packageZip('v1.35.2-coracle'), sasUrl)).toBe('v1.35.2-coracle');
    // A publisher runs no control plane: publishing the version of its own build is allowed.
    expect(await publishRelease(await packageZip(RELEASE_VERSION), sasUrl)).toBe(RELEASE_VERSION);
    expect(await releaseCatalog({ releases: { catalogUrl: sasUrl, identity: {} } })()).toEqual([RELEASE_VERSION, 'v1.35.2-coracle']);
  });

  it('the built command publishes once; again it fails as AlreadyExists, or succeeds with --if-absent', async () => {
    const container = await newContainer();
    const sasUrl = await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('racwl'), expiresOn: new Date(Date.now() + 3_600_000) });
    const zip = await packageZip('v1.35.3-coracle');
    const publish = (...extra: string[]) => run(process.execPath, [CLI, 'release', 'publish', zip, '--container-url', sasUrl, ...extra]).then(
      ({ stdout }) => ({ code: 0, out: stdout }), (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }));
    expect(await publish()).toEqual({ code: 0, out: expect.stringContaining('release v1.35.3-coracle published to') });
    const again = await publish();
    expect(again.code).not.toBe(0);
    expect(again.out).toContain('release v1.35.3-coracle is already in the catalog');
    expect(await publish('--if-absent')).toEqual({ code: 0, out: expect.stringContaining('already in the catalog') });
  });
});

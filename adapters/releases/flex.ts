/**
 * The ControlPlaneHost (shared/release/control-plane.ts) of a function app on the Flex Consumption
 * plan. Flex runs the package zip named `released-package.zip` in the blob container its
 * `functionAppConfig.deployment.storage` names (infra/modules/functionapp.bicep), and One Deploy
 * (`az functionapp deployment source config-zip`, or ARM's `Microsoft.Web/sites/extensions/onedeploy`)
 * is how a new package is taken up: the platform restarts every instance on it.
 *
 * A move to release V therefore: (1) copies the catalog's blob of V (adapters/releases/blob.ts)
 * over `released-package.zip`, stamped with V in its metadata, then (2) asks ARM for a One Deploy
 * of that blob (PUT `<site>/extensions/onedeploy`, signed with the app's managed identity; the
 * identity needs Website Contributor on its own site, and a Blob Data role on both containers).
 * `running()` answers V once the deployed package says V *and* the process asking runs V itself
 * (its own version stamp): the first is what every instance restarts on, the second shows the
 * restart reached at least this instance. A package without a version in its metadata was put
 * there by the deployment (config-zip), not by a move: the process's own version is answered. It cannot see other instances: Flex restarts them all on
 * a deployment, which is what it relies on.
 */
import type { Readable } from 'node:stream';
import type { TokenCredential } from '@azure/core-auth';
import type { ContainerClient } from '@azure/storage-blob';
import type { ControlPlaneHost } from '../../shared/release/control-plane.js';
import { ReleaseCatalogError } from '../../shared/release/catalog.js';
import { fetchTrusting } from '../fetch-ca.js';
import { releaseBlobName, VERSION_METADATA } from './blob.js';

/** DEPLOYED_PACKAGE is the blob Flex Consumption runs, in its deployment container. */
export const DEPLOYED_PACKAGE = 'released-package.zip';
/** WEB_API_VERSION is the Microsoft.Web api-version of the One Deploy call. */
export const WEB_API_VERSION = '2024-11-01';
const ARM_ENDPOINT = 'https://management.azure.com';
const ARM_SCOPE = 'https://management.azure.com/.default';

/** FlexControlPlaneHostOptions: the two containers, the site, and how to reach ARM. */
export interface FlexControlPlaneHostOptions {
  /** The release catalog's container. */
  releases: ContainerClient;
  /** The app's deployment container (functionAppConfig.deployment.storage). */
  deployment: ContainerClient;
  /** The function app's resource id (`/subscriptions/…/providers/Microsoft.Web/sites/<name>`). */
  siteId: string;
  credential: TokenCredential;
  /** The release this process runs (its build's stamp). */
  running: string;
  /** ARM endpoint (default Azure's public cloud) and a CA to trust for it (tests: the stand-in). */
  armEndpoint?: string;
  armCa?: string;
}

const SITE_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Web\/sites\/[^/]+$/i;

/** flexControlPlaneHost is the ControlPlaneHost of a Flex Consumption function app; see the module comment. */
export function flexControlPlaneHost(o: FlexControlPlaneHostOptions): ControlPlaneHost {
  if (!SITE_ID.test(o.siteId)) throw new Error(`"${o.siteId}" is not a function app's resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Web/sites/<name>)`);
  const deployed = o.deployment.getBlockBlobClient(DEPLOYED_PACKAGE);
  let moving: string | undefined;

  const deployedVersion = async (): Promise<string | undefined> => {
    const props = await deployed.getProperties().catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return undefined;
      throw err;
    });
    return props?.metadata?.[VERSION_METADATA];
  };

  const oneDeploy = async (): Promise<void> => {
    const doFetch = o.armCa ? await fetchTrusting(o.armCa) : fetch;
    const { token } = (await o.credential.getToken(ARM_SCOPE)) ?? { token: '' };
    if (!token) throw new Error(`no token for ${ARM_SCOPE}: the app's managed identity could not sign the deployment`);
    const url = `${o.armEndpoint ?? ARM_ENDPOINT}${o.siteId}/extensions/onedeploy?api-version=${WEB_API_VERSION}`;
    const res = await doFetch(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { packageUri: deployed.url, remoteBuild: false } }),
    });
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        if (err) message = `${err.code}: ${err.message}`;
      } catch { /* not JSON: keep the text */ }
      throw new Error(`One Deploy of ${o.siteId} answered ${res.status}: ${message}`);
    }
    await res.body?.cancel();
  };

  return {
    running: async () => {
      const version = await deployedVersion();
      // No stamp: the package is the one the deployment itself published (config-zip), this build.
      return version === undefined || version === o.running ? o.running : undefined;
    },
    moveTo: async (version) => {
      if (moving === version) return;
      const source = o.releases.getBlobClient(releaseBlobName(version));
      if ((await deployedVersion()) !== version) {
        const download = await source.download().catch((err: { statusCode?: number }) => {
          throw err.statusCode === 404 ? new ReleaseCatalogError('NotFound', `release ${version} is not in the catalog (coracle release publish <package.zip>)`) : err;
        });
        await deployed.uploadStream(download.readableStreamBody as Readable, undefined, undefined, {
          metadata: { [VERSION_METADATA]: version },
          blobHTTPHeaders: { blobContentType: 'application/zip' },
        });
      }
      await oneDeploy();
      moving = version;
    },
  };
}

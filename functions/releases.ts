/**
 * The Azure release adapters (adapters/releases/) built from the app's configuration: the blob
 * release catalog the control plane lists, and the Flex Consumption ControlPlaneHost the upgrade
 * step uses when no host was handed over (`coracle up` hands over its own: functions/node-provider.ts).
 * Both are signed with the app's managed identity; @azure/storage-blob loads only when configured.
 */
import type { AzureReleasesConfig } from './config.js';
import type { ReleaseCatalogStore } from '../shared/release/catalog.js';
import type { ControlPlaneHost } from '../shared/release/control-plane.js';
import { RELEASE_VERSION } from '../shared/release/version.js';
import { azureCredential } from '../adapters/identity.js';

/**
 * openAzureReleaseCatalog opens the catalog container of `config` (adapters/releases/blob.ts), as
 * the control plane (`installed`: this build) or as a publisher (none). A container URL with a SAS
 * (`?…`) is used as it is; otherwise requests are signed with `config.identity`.
 */
export async function openAzureReleaseCatalog(config: Pick<AzureReleasesConfig, 'catalogUrl' | 'identity'>, role: 'control-plane' | 'publisher' = 'control-plane'): Promise<ReleaseCatalogStore> {
  const [{ ContainerClient }, { blobReleaseCatalog }] = await Promise.all([import('@azure/storage-blob'), import('../adapters/releases/blob.js')]);
  const container = config.catalogUrl.includes('?') ? new ContainerClient(config.catalogUrl) : new ContainerClient(config.catalogUrl, await azureCredential(config.identity));
  return blobReleaseCatalog({ container, installed: role === 'control-plane' ? RELEASE_VERSION : undefined });
}

/** publishRelease publishes a function app package zip to the catalog container at `containerUrl` (`coracle release publish`); resolves with its version. */
export async function publishRelease(zip: string, containerUrl: string): Promise<string> {
  return (await openAzureReleaseCatalog({ catalogUrl: containerUrl, identity: {} }, 'publisher')).add(zip);
}

/** openFlexControlPlaneHost builds the function app's ControlPlaneHost (adapters/releases/flex.ts); undefined when `config` names no deployment. */
export async function openFlexControlPlaneHost(config: AzureReleasesConfig | undefined): Promise<ControlPlaneHost | undefined> {
  if (!config?.deployment) return undefined;
  const [{ ContainerClient }, { flexControlPlaneHost }] = await Promise.all([import('@azure/storage-blob'), import('../adapters/releases/flex.js')]);
  const credential = await azureCredential(config.identity);
  return flexControlPlaneHost({
    releases: new ContainerClient(config.catalogUrl, credential),
    deployment: new ContainerClient(config.deployment.containerUrl, credential),
    siteId: config.deployment.siteId,
    credential,
    running: RELEASE_VERSION,
  });
}

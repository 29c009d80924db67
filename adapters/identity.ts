/**
 * The one place a Microsoft Entra credential is built, for every Azure client the app and the
 * agents open without keys (Cosmos DB, Service Bus, Blob Storage): a user-assigned managed
 * identity when its client id is given (`AZURE_CLIENT_ID`, as the VMs and the Function App set
 * it), else DefaultAzureCredential's chain (environment, workload identity, managed identity,
 * Azure CLI: a developer's `az login` works the same way). @azure/identity loads only here, and
 * only when a key-less open asks for it.
 */
import type { TokenCredential } from '@azure/core-auth';

/** azureCredential returns the credential for `clientId` (a user-assigned managed identity), or DefaultAzureCredential. */
export async function azureCredential(identity: { clientId?: string }): Promise<TokenCredential> {
  const { DefaultAzureCredential, ManagedIdentityCredential } = await import('@azure/identity');
  return identity.clientId ? new ManagedIdentityCredential({ clientId: identity.clientId }) : new DefaultAzureCredential();
}

/**
 * The composition root opens the Cosmos DB store from app settings, as the Function App does in
 * Azure (COSMOS_CONNECTION_STRING, or COSMOS_ENDPOINT + COSMOS_KEY), here against the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { storeFromSettings } from '../functions/runtime.js';
import { startCosmosServer, type CosmosServer } from './support/cosmos-server.js';

describe('storeFromSettings with Cosmos DB settings (emulator)', () => {
  let server: CosmosServer;
  beforeAll(async () => { server = await startCosmosServer(); });
  afterAll(async () => { await server.stop(); });

  it('opens the store from a connection string, in the partition CORACLE_CLUSTER names', async () => {
    const settings = {
      COSMOS_CONNECTION_STRING: `AccountEndpoint=${server.endpoint};AccountKey=${server.key};`,
      COSMOS_ENDPOINT_DISCOVERY: 'false',
      CORACLE_CLUSTER: 'blue',
    };
    const blue = await storeFromSettings(settings);
    const created = await blue.create('/registry/core/namespaces/x', { metadata: { name: 'x' } });
    expect((await blue.get('/registry/core/namespaces/x'))?.modRevision).toBe(created.modRevision);
    await blue.close();

    // Another cluster in the same container sees none of it: one logical partition per cluster.
    const green = await storeFromSettings({ ...settings, CORACLE_CLUSTER: 'green' });
    expect(await green.get('/registry/core/namespaces/x')).toBeUndefined();
    await green.close();
  }, 60_000);

  it('opens it from COSMOS_ENDPOINT and COSMOS_KEY, and names what is missing', async () => {
    const store = await storeFromSettings({ COSMOS_ENDPOINT: server.endpoint, COSMOS_KEY: server.key, COSMOS_ENDPOINT_DISCOVERY: 'false' });
    expect(await store.currentRevision()).toBeGreaterThanOrEqual(0);
    await store.close();
    await expect(storeFromSettings({ COSMOS_CONNECTION_STRING: `AccountKey=${server.key}` })).rejects.toThrow(/COSMOS_ENDPOINT/);
  }, 60_000);

  it('without a key, signs with a Microsoft Entra token (the managed identity): the SDK refuses to send one to the plain-HTTP emulator', async () => {
    // The emulator speaks HTTP and knows no Entra ID, so this can only show that the identity path
    // is the one taken; the real open is unverified without a subscription.
    await expect(storeFromSettings({ COSMOS_ENDPOINT: server.endpoint, COSMOS_ENDPOINT_DISCOVERY: 'false' })).rejects.toThrow(/Bearer token authentication/);
  }, 60_000);
});

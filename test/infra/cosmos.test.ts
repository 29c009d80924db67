/**
 * The store's container as Bicep creates it (infra/modules/cosmos.bicep, compiled) against the
 * definition the Cosmos DB adapter creates when it finds none: Bicep runs first, so the adapter's
 * createIfNotExists finds Bicep's container and never applies its own policy.
 */
import { describe, expect, it } from '@jest/globals';
import { storeContainerDefinition } from '../../adapters/store/cosmos/container.js';
import { armResources, compileBicep } from '../support/bicep.js';

describe('the Cosmos DB store container: Bicep and the adapter agree', () => {
  const containers = armResources(compileBicep('infra/main.bicep')).filter((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
  const store = containers.map((c) => (c.properties as { resource: Record<string, unknown> }).resource).find((r) => r.id !== 'leases');

  it('has the partition key, TTL and indexing policy the adapter defines', () => {
    expect(containers).toHaveLength(2);
    expect(store).toBeDefined();
    const want = storeContainerDefinition('objects');
    expect((store!.partitionKey as { paths: string[] }).paths).toEqual(want.partitionKey && typeof want.partitionKey === 'object' && 'paths' in want.partitionKey ? want.partitionKey.paths : []);
    expect(store!.defaultTtl).toBe(want.defaultTtl);
    const policy = store!.indexingPolicy as Record<string, unknown>;
    const wantPolicy = want.indexingPolicy!;
    expect(policy.indexingMode).toBe(wantPolicy.indexingMode);
    expect(policy.includedPaths).toEqual(wantPolicy.includedPaths);
    expect(policy.excludedPaths).toEqual(wantPolicy.excludedPaths);
    expect(policy.compositeIndexes).toEqual(wantPolicy.compositeIndexes);
  });
});

/**
 * The container the Cosmos DB store needs: partition key `/cluster` (one logical partition per
 * cluster, so a write's batch can span its counter, object and log items), TTL switched on with
 * no default (`defaultTtl: -1`: only log items, which set `ttl`, expire), and an indexing policy
 * that indexes exactly what the queries filter and sort on (values are not indexed).
 */
import type { ContainerDefinition, CosmosClient, Container, IndexingPolicy } from '@azure/cosmos';
import { StoreError } from '../../../shared/store/store.js';

/** PARTITION_KEY_PATH is the container's partition key path. */
export const PARTITION_KEY_PATH = '/cluster';

/** STORE_INDEXING_POLICY indexes type, key and revision fields and a pod's node (ListOptions.fieldEquals), with the composite indexes the ORDER BYs use. */
export const STORE_INDEXING_POLICY: IndexingPolicy = {
  indexingMode: 'consistent' as IndexingPolicy['indexingMode'],
  automatic: true,
  includedPaths: [{ path: '/type/?' }, { path: '/key/?' }, { path: '/revision/?' }, { path: '/modRevision/?' }, { path: '/value/spec/nodeName/?' }],
  excludedPaths: [{ path: '/*' }],
  compositeIndexes: [
    [{ path: '/type', order: 'ascending' as const }, { path: '/revision', order: 'ascending' as const }],
    [{ path: '/type', order: 'ascending' as const }, { path: '/key', order: 'ascending' as const }],
  ] as IndexingPolicy['compositeIndexes'],
};

/** storeContainerDefinition is the definition used to create the container. */
export function storeContainerDefinition(containerId: string): ContainerDefinition {
  return { id: containerId, partitionKey: { paths: [PARTITION_KEY_PATH] }, defaultTtl: -1, indexingPolicy: STORE_INDEXING_POLICY };
}

/**
 * ensureStoreContainer creates the database and container when absent and checks that an
 * existing container is partitioned by `/cluster` (BadRequest otherwise).
 */
export async function ensureStoreContainer(client: CosmosClient, databaseId: string, containerId: string): Promise<Container> {
  const { database } = await client.databases.createIfNotExists({ id: databaseId });
  const { container, resource } = await database.containers.createIfNotExists(storeContainerDefinition(containerId));
  const paths = resource?.partitionKey?.paths ?? [];
  if (paths.length !== 1 || paths[0] !== PARTITION_KEY_PATH) {
    throw new StoreError('BadRequest', `container ${containerId} is partitioned by ${paths.join(',')}, not ${PARTITION_KEY_PATH}`);
  }
  return container;
}

/** The Cosmos DB adapter of the Store port: see cosmos-store.ts. */
export { openCosmosStore, type CosmosStore, type CosmosStoreOptions } from './cosmos-store.js';
export type { CosmosStats, ThrottlePolicy } from './calls.js';
export { PARTITION_KEY_PATH, STORE_INDEXING_POLICY, storeContainerDefinition } from './container.js';

/** The Cosmos DB emulator for tests and the bench: the one the local host starts (local/cosmos-emulator.ts). */
export { EMULATOR_KEY, startCosmosServer, type CosmosServer, type RequestHook } from '../../local/cosmos-emulator.js';

/**
 * The Cosmos DB store in the store benchmark, against `@vercel/cosmosdb-server` (an in-memory
 * emulator over HTTP, started per run): figures show the adapter's request pattern and the
 * emulator's speed, not Cosmos DB's latency. On destroy it prints how many round trips the store
 * made for how many calls of each kind.
 */
import type { Store } from '../shared/store/store.js';
import { openCosmosStore, type CosmosStore } from '../adapters/store/cosmos/index.js';
import { startCosmosServer } from '../test/support/cosmos-server.js';
import type { BenchStoreEntry } from './targets.js';

/** countingCalls wraps `store` so each method call is tallied in `calls`. */
function countingCalls(store: CosmosStore, calls: Map<string, number>): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver);
      if (typeof member !== 'function') return member;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return member.apply(target, args);
      };
    },
  });
}

/** benchEntry opens a fresh emulator and a store on it; destroy stops both. */
export const benchEntry: BenchStoreEntry = {
  name: 'cosmos (emulator)',
  open: async () => {
    const server = await startCosmosServer();
    const store = await openCosmosStore({ endpoint: server.endpoint, key: server.key, databaseId: 'bench', containerId: 'store', cluster: 'bench' });
    const calls = new Map<string, number>();
    const opened = { roundTrips: store.stats.roundTrips, http: server.requests() };
    return {
      store: countingCalls(store, calls),
      destroy: async () => {
        const { roundTrips, throttled } = store.stats;
        await store.close();
        const http = server.requests() - opened.http;
        await server.stop();
        const tally = [...calls].map(([name, n]) => `${name} x${n}`).join(', ');
        console.log(`cosmos (emulator): ${roundTrips - opened.roundTrips} round trips (${http} HTTP requests, ${throttled} throttled) for ${tally}`);
      },
    };
  },
};

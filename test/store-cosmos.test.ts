/**
 * The Cosmos DB store against `@vercel/cosmosdb-server` (the real SDK over HTTP): the Store
 * contract suite, then what is particular to this adapter (round trips, the counter cache with
 * two instances, 429 handling, the container's shape).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CosmosClient } from '@azure/cosmos';
import { describeStoreContract } from '../shared/store/contract.js';
import { isStoreError } from '../shared/store/store.js';
import { openCosmosStore, PARTITION_KEY_PATH, type CosmosStore } from '../adapters/store/cosmos/index.js';
import { startCosmosServer, type CosmosServer } from './support/cosmos-server.js';
import { STORE_INDEXING_POLICY, storeContainerDefinition } from '../adapters/store/cosmos/container.js';
import { COSMOS_MIGRATIONS, SCHEMA_ID } from '../adapters/store/cosmos/schema.js';
import { RELEASE_VERSION } from '../shared/release/version.js';

let server: CosmosServer;
let clusters = 0;

beforeAll(async () => {
  server = await startCosmosServer();
});
afterAll(async () => {
  await server.stop();
});

/** openFresh opens a store on a cluster no other test uses (the emulator is shared). */
function openFresh(overrides: Partial<Parameters<typeof openCosmosStore>[0]> = {}) {
  const cluster = `c${++clusters}`;
  const open = () =>
    openCosmosStore({ endpoint: server.endpoint, key: server.key, databaseId: 'coracle', containerId: 'store', cluster, watchPollIntervalMs: 20, ...overrides });
  return { cluster, open };
}

describeStoreContract(
  'cosmos (emulator)',
  async () => {
    const { open } = openFresh();
    const opened: CosmosStore[] = [await open()];
    return {
      store: opened[0],
      reopen: async () => {
        await opened[opened.length - 1].close();
        opened.push(await open());
        return opened[opened.length - 1];
      },
      destroy: async () => {
        for (const store of opened) await store.close();
      },
    };
  },
  { atomicWrites: false, ttl: false },
);

describe('cosmos store specifics', () => {
  it('a get is one round trip; a create, and an update or delete of a version it knows, one each', async () => {
    const store = await openFresh().open();
    try {
      await store.create('/rt/warm', {}); // loads the counter once
      const trips = () => store.stats.roundTrips;
      let before = trips();
      const a = await store.create('/rt/a', { v: 1 });
      expect(trips() - before).toBe(1);
      before = trips();
      const got = await store.get('/rt/a');
      expect(trips() - before).toBe(1);
      before = trips();
      const a2 = await store.update('/rt/a', { v: 2 }, got!.modRevision);
      expect(trips() - before).toBe(1);
      before = trips();
      await store.delete('/rt/a', a2.modRevision);
      expect(trips() - before).toBe(1);
      expect(a.modRevision).toBeLessThan(a2.modRevision);
    } finally {
      await store.close();
    }
  });

  it("a fieldEquals list (a node's pods) asks the container for that node's items only", async () => {
    const store = await openFresh().open();
    try {
      for (let i = 0; i < 6; i++) await store.create(`/fe/${i}`, { spec: { nodeName: i < 2 ? 'mine' : 'other' } });
      const mine = await store.list('/fe/', { countRemaining: false, fieldEquals: { field: 'spec.nodeName', value: 'mine' } });
      expect(mine.items.map((kv) => kv.key)).toEqual(['/fe/0', '/fe/1']);
      // Without countRemaining: false the hint is not for this call: every item comes back.
      expect((await store.list('/fe/', { fieldEquals: { field: 'spec.nodeName', value: 'mine' } })).items).toHaveLength(6);
    } finally {
      await store.close();
    }
  });

  it('an update of a version it has not seen reads first: two round trips', async () => {
    const { open } = openFresh();
    const writer = await open();
    const other = await open();
    try {
      const a = await writer.create('/rt/a', { v: 1 });
      await other.currentRevision(); // warm the other instance's counter
      const before = other.stats.roundTrips;
      await other.update('/rt/a', { v: 2 }, a.modRevision);
      expect(other.stats.roundTrips - before).toBe(2);
    } finally {
      await writer.close();
      await other.close();
    }
  });

  it('two instances writing one cluster: stale counters recover, revisions stay unique, no update is lost', async () => {
    const { open } = openFresh();
    const [one, two] = [await open(), await open()];
    try {
      await one.create('/two/n', { n: 0 });
      const revisions: number[] = [];
      const incrementLoop = async (store: CosmosStore, times: number) => {
        for (let done = 0; done < times; ) {
          const kv = (await store.get('/two/n'))!;
          try {
            const next = await store.update('/two/n', { n: (kv.value.n as number) + 1 }, kv.modRevision);
            revisions.push(next.modRevision);
            done++;
          } catch (err) {
            if (!isStoreError(err, 'Conflict')) throw err;
          }
        }
      };
      const creates = async (store: CosmosStore, tag: string) => {
        for (let i = 0; i < 20; i++) revisions.push((await store.create(`/two/${tag}-${i}`, {})).modRevision);
      };
      await Promise.all([incrementLoop(one, 30), incrementLoop(two, 30), creates(one, 'a'), creates(two, 'b')]);
      expect((await two.get('/two/n'))?.value).toEqual({ n: 60 });
      expect(new Set(revisions).size).toBe(revisions.length);
      expect(await one.count('/two/')).toBe(41);
      expect(Math.max(...revisions)).toBeLessThanOrEqual(await one.currentRevision());
    } finally {
      await one.close();
      await two.close();
    }
  }, 60_000);

  it('retries a throttled request after the retry-after the server sent, and gives up when told to', async () => {
    const store = await openFresh({ throttle: { maxRetries: 3, maxWaitMs: 5_000 } }).open();
    let throttledLeft = 2;
    const throttle = (retryAfterMs: number) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      if (throttledLeft <= 0 || req.method !== 'GET') return false;
      throttledLeft--;
      res.writeHead(429, { 'content-type': 'application/json', 'x-ms-retry-after-ms': String(retryAfterMs) });
      res.end(JSON.stringify({ code: 'TooManyRequests', message: 'Request rate is large' }));
      return true;
    };
    try {
      await store.create('/t/a', { v: 1 });
      server.intercept(throttle(150));
      const started = Date.now();
      const before = { trips: store.stats.roundTrips, throttled: store.stats.throttled, http: server.requests() };
      expect((await store.get('/t/a'))?.value).toEqual({ v: 1 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 150 - 10);
      expect(store.stats.throttled - before.throttled).toBe(2);
      expect(store.stats.roundTrips - before.trips).toBe(3);
      expect(server.requests() - before.http).toBe(3); // the SDK itself did not retry
      throttledLeft = 10;
      server.intercept(throttle(10));
      await expect(store.get('/t/a')).rejects.toMatchObject({ reason: 'Unavailable' });
    } finally {
      server.intercept(undefined);
      await store.close();
    }
  });

  it('creates its container partitioned by /cluster, TTL on, with revision, key and type indexed', async () => {
    const store = await openFresh().open();
    const client = new CosmosClient({ endpoint: server.endpoint, key: server.key, connectionPolicy: { enableEndpointDiscovery: false } });
    try {
      const { resource } = await client.database('coracle').container('store').read();
      expect(resource?.partitionKey?.paths).toEqual([PARTITION_KEY_PATH]);
      expect(resource?.defaultTtl).toBe(-1);
      const included = resource?.indexingPolicy?.includedPaths?.map((p) => p.path);
      expect(included).toEqual(expect.arrayContaining(['/revision/?', '/key/?', '/type/?', '/value/spec/nodeName/?']));
      expect(resource?.indexingPolicy?.compositeIndexes).toContainEqual([
        { path: '/type', order: 'ascending' },
        { path: '/revision', order: 'ascending' },
      ]);
    } finally {
      client.dispose();
      await store.close();
    }
  });

  it('a container and cluster from before schema records are brought to this release\'s layout and recorded; a newer record is refused', async () => {
    const client = new CosmosClient({ endpoint: server.endpoint, key: server.key, connectionPolicy: { enableEndpointDiscovery: false } });
    try {
      // The container as releases before version 2 made it: no index on a pod's node.
      const { database } = await client.databases.createIfNotExists({ id: 'coracle' });
      const oldPolicy = { ...STORE_INDEXING_POLICY, includedPaths: STORE_INDEXING_POLICY.includedPaths!.filter((p) => p.path !== '/value/spec/nodeName/?') };
      const { container } = await database.containers.createIfNotExists({ ...storeContainerDefinition('old-layout'), indexingPolicy: oldPolicy });
      const old = openFresh({ containerId: 'old-layout' });
      const first = await old.open();
      await first.create('/registry/core/pods/default/a', { kind: 'Pod', spec: { nodeName: 'node-1' } });
      await first.close();
      // Forget the record, as a store written before schema records has none.
      await container.item(SCHEMA_ID, old.cluster).delete();
      await container.replace({ ...(await container.read()).resource!, indexingPolicy: oldPolicy });

      const store = await old.open();
      expect((await store.get('/registry/core/pods/default/a'))?.value).toEqual({ kind: 'Pod', spec: { nodeName: 'node-1' } });
      const schema = await store.storageSchema();
      await store.close();
      expect(schema.backend).toBe('cosmos');
      expect(schema.version).toBe(COSMOS_MIGRATIONS.length);
      expect(schema.migrations.map((m) => [m.version, m.release])).toEqual([[2, RELEASE_VERSION]]);
      const included = (await container.read()).resource?.indexingPolicy?.includedPaths?.map((p) => p.path);
      expect(included).toContain('/value/spec/nodeName/?');

      // A newer release's record: refused before anything changes.
      const { resource: record } = await container.item(SCHEMA_ID, old.cluster).read();
      await container.item(SCHEMA_ID, old.cluster).replace({ ...record, version: COSMOS_MIGRATIONS.length + 1 });
      await expect(old.open()).rejects.toThrow(`the Cosmos DB store of cluster ${old.cluster} is at storage schema version ${COSMOS_MIGRATIONS.length + 1}, newer than this release's (${COSMOS_MIGRATIONS.length})`);
    } finally {
      client.dispose();
    }
  });

  it('a watch skips a revision that never lands after waiting for it, and still delivers the rest', async () => {
    const { open, cluster } = openFresh({ watchGapWaitMs: 300 });
    const store = await open();
    const client = new CosmosClient({ endpoint: server.endpoint, key: server.key, connectionPolicy: { enableEndpointDiscovery: false } });
    try {
      const a = await store.create('/g/a', {});
      const it = store.watch('/g/', a.modRevision, { progressIntervalMs: 0 })[Symbol.asyncIterator]();
      const next = it.next(); // the watch is live (tailing) before the gap appears
      await new Promise((r) => setTimeout(r, 100));
      // A writer that died after bumping the counter: revision a+1 is consumed, never written.
      const counter = client.database('coracle').container('store').item('revision', cluster);
      const { resource } = await counter.read();
      await counter.replace({ ...resource, revision: a.modRevision + 1 });
      const other = await open();
      const b = await other.create('/g/b', {});
      expect(b.modRevision).toBe(a.modRevision + 2);
      const started = Date.now();
      const step = await next;
      expect(step.value).toEqual({ type: 'put', kv: b });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250); // it waited for a+1 before skipping
      await it.return?.();
      await other.close();
    } finally {
      client.dispose();
      await store.close();
    }
  });
  it('watchers share one poll: twenty idle watches cost the round trips of one', async () => {
    const store = await openFresh({ watchPollIntervalMs: 50 }).open();
    const aborts = new AbortController();
    const idleTrips = async (watchers: number) => {
      const its = Array.from({ length: watchers }, () => store.watch('/w/', 0, { signal: aborts.signal, progressIntervalMs: 0 })[Symbol.asyncIterator]());
      const pending = its.map((it) => it.next()); // subscribe them all
      await new Promise((r) => setTimeout(r, 200));
      const before = store.stats.roundTrips;
      await new Promise((r) => setTimeout(r, 500));
      return { trips: store.stats.roundTrips - before, pending };
    };
    try {
      await store.create('/w/a', {});
      const twenty = await idleTrips(20);
      expect(twenty.trips).toBeGreaterThan(0);
      expect(twenty.trips).toBeLessThanOrEqual(12); // ~10 polls of one counter read each
      const b = await store.create('/w/b', {});
      for (const step of await Promise.all(twenty.pending)) expect(step.value).toEqual({ type: 'put', kv: b });
    } finally {
      aborts.abort();
      await store.close();
    }
  });

  it('on the non-atomic emulator, a failed write marks its consumed revision so watches do not wait for it', async () => {
    const store = await openFresh({ watchGapWaitMs: 5_000 }).open();
    try {
      const a = await store.create('/n/a', {});
      const it = store.watch('/n/', a.modRevision, { progressIntervalMs: 0 })[Symbol.asyncIterator]();
      await expect(store.create('/n/a', {})).rejects.toMatchObject({ reason: 'AlreadyExists' });
      const b = await store.create('/n/b', {});
      const consumed = b.modRevision - a.modRevision - 1; // 1 here (the emulator applied the counter), 0 on Cosmos DB
      expect(consumed).toBe(1);
      const started = Date.now();
      expect((await it.next()).value).toEqual({ type: 'put', kv: b });
      expect(Date.now() - started).toBeLessThan(2_000);
      await it.return?.();
    } finally {
      await store.close();
    }
  });
});

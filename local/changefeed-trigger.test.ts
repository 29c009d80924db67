import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openSqliteStore } from '../adapters/store/sqlite/index.js';
import { changeFromDocument } from '../adapters/store/cosmos/change.js';
import type { Store } from '../shared/store/store.js';
import type { RegisteredFunction } from './functions-core.js';
import { ChangeFeedTriggerRunner, checkpointKey, retryPolicyOf } from './changefeed-trigger.js';

let store: Store;
beforeEach(async () => { store = await openSqliteStore({ path: ':memory:', pollIntervalMs: 0 }); });
afterEach(async () => { await store.close(); });

/** feedFunction registers a cosmosDBTrigger function that records each batch (and can be told to fail). */
function feedFunction(batches: unknown[][], failFirst = 0, retryOptions?: unknown, retries: unknown[] = []): RegisteredFunction {
  let failures = 0;
  return {
    metadata: { name: 'feed', bindings: { trigger: { type: 'cosmosDBTrigger', direction: 'in', maxItemsPerInvocation: 2 } }, retryOptions },
    callback: async (documents: unknown, context: unknown) => {
      retries.push((context as { retryContext?: unknown }).retryContext);
      if (failures++ < failFirst) throw new Error('transient');
      batches.push(documents as unknown[]);
    },
  };
}

/** As `app.cosmosDB(..., { retry: { strategy: 'fixedDelay', maxRetryCount: -1, delayInterval: 0 } })` registers it. */
const RETRY_FOREVER = { retryStrategy: 'fixedDelay', maxRetryCount: -1, delayInterval: { seconds: 0 } };

function runner(fn: RegisteredFunction, errors: unknown[] = []): ChangeFeedTriggerRunner {
  return new ChangeFeedTriggerRunner([fn], { log: () => undefined, inputProviders: new Map() }, async () => ({ store, cluster: 'default' }), (_n, err) => errors.push(err));
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const keysOf = (batches: unknown[][]) => batches.flat().map((d) => changeFromDocument(d)).map((c) => `${c?.type} ${c?.key}`);

describe('local change feed trigger', () => {
  it('delivers log documents in order, in batches, and resumes after its checkpoint', async () => {
    await store.create('/other/marker', {});
    await store.create(checkpointKey('feed'), { revision: await store.currentRevision() });
    await store.create('/registry/core/configmaps/default/a', { kind: 'ConfigMap', metadata: { name: 'a' } });
    const b = await store.create('/registry/core/configmaps/default/b', { kind: 'ConfigMap', metadata: { name: 'b' } });
    // Written by an API request: its id travels beside the value, in the document and the change.
    await store.update(b.key, { kind: 'ConfigMap', metadata: { name: 'b' }, data: { x: '1' } }, b.modRevision, { requestId: 'req-1' });
    const last = (await store.delete('/registry/core/configmaps/default/a')).modRevision;
    const batches: unknown[][] = [];
    const errors: unknown[] = [];
    const first = runner(feedFunction(batches), errors);
    first.start();
    await until(() => batches.flat().length === 4).catch((err) => { throw new Error(`${err}: ${JSON.stringify(errors.map(String))}`); });
    expect(keysOf(batches)).toEqual(['put /registry/core/configmaps/default/a', 'put /registry/core/configmaps/default/b', 'put /registry/core/configmaps/default/b', 'delete /registry/core/configmaps/default/a']);
    expect(batches.every((batch) => batch.length <= 2)).toBe(true);
    expect(batches.flat()[2]).toMatchObject({ type: 'log', prevValue: { metadata: { name: 'b' } }, value: { data: { x: '1' } }, requestId: 'req-1' });
    expect(changeFromDocument(batches.flat()[2])).toMatchObject({ type: 'put', requestId: 'req-1', value: { data: { x: '1' } } });
    expect(changeFromDocument(batches.flat()[1])?.requestId).toBeUndefined();
    // Stopped once the last batch is checkpointed (a stop before that may redeliver that batch).
    for (let i = 0; i < 300 && Number((await store.get(checkpointKey('feed')))?.value.revision) < last; i++) await new Promise((r) => setTimeout(r, 10));
    await first.stop();

    await store.create('/registry/core/configmaps/default/c', { kind: 'ConfigMap', metadata: { name: 'c' } });
    const later: unknown[][] = [];
    const second = runner(feedFunction(later));
    second.start();
    await until(() => later.flat().length >= 1);
    await new Promise((r) => setTimeout(r, 50));
    await second.stop();
    // Nothing before the checkpoint again (the checkpoint key itself is never delivered).
    expect(keysOf(later)).toEqual(['put /registry/core/configmaps/default/c']);
  });

  it('starts from a listing when it has no checkpoint yet', async () => {
    const a = await store.create('/registry/core/configmaps/default/a', { kind: 'ConfigMap', metadata: { name: 'a' } });
    await store.update(a.key, { kind: 'ConfigMap', metadata: { name: 'a' }, data: { v: '2' } }, a.modRevision);
    const batches: unknown[][] = [];
    const r = runner(feedFunction(batches));
    r.start();
    await until(() => batches.length >= 1);
    await r.stop();
    expect(batches.flat()).toEqual([expect.objectContaining({ type: 'log', key: a.key, value: expect.objectContaining({ data: { v: '2' } }) })]);
  });

  it('with a retry policy, a failed invocation gets the same batch again (retryContext counting)', async () => {
    await store.create('/registry/core/configmaps/default/a', { kind: 'ConfigMap', metadata: { name: 'a' } });
    const batches: unknown[][] = [];
    const errors: unknown[] = [];
    const retries: unknown[] = [];
    const r = runner(feedFunction(batches, 1, RETRY_FOREVER, retries), errors);
    r.start();
    await until(() => batches.length === 1);
    await r.stop();
    expect(errors.map(String)).toEqual(['Error: transient']);
    expect(keysOf(batches)).toEqual(['put /registry/core/configmaps/default/a']);
    expect(retries).toEqual([{ retryCount: 0, maxRetryCount: -1 }, { retryCount: 1, maxRetryCount: -1 }]);
  });

  it('without a retry policy, a failed batch is given up and the feed goes on, as the Functions host does', async () => {
    await store.create('/other/marker', {});
    await store.create(checkpointKey('feed'), { revision: await store.currentRevision() });
    await store.create('/registry/core/configmaps/default/a', { kind: 'ConfigMap', metadata: { name: 'a' } });
    const batches: unknown[][] = [];
    const errors: unknown[] = [];
    const r = runner(feedFunction(batches, 1), errors);
    r.start();
    await until(() => errors.length === 2).catch((err) => { throw new Error(`${err}: ${JSON.stringify(errors.map(String))} ${batches.length}`); });
    await store.create('/registry/core/configmaps/default/b', { kind: 'ConfigMap', metadata: { name: 'b' } });
    await until(() => batches.length === 1).catch((err) => { throw new Error(`${err}: ${JSON.stringify(errors.map(String))}`); });
    await r.stop();
    expect(String(errors[1])).toMatch(/given up after 1 attempt/);
    expect(keysOf(batches)).toEqual(['put /registry/core/configmaps/default/b']);
  });

  it('reads retry policies as the library registers them', () => {
    const fn = (retryOptions: unknown) => ({ metadata: { name: 'f', bindings: {}, retryOptions }, callback: () => undefined });
    const exp = retryPolicyOf(fn({ retryStrategy: 'exponentialBackoff', maxRetryCount: 5, minimumInterval: { seconds: 1 }, maximumInterval: { seconds: 5 } }))!;
    expect([1, 2, 3, 4].map((n) => exp.delayMs(n))).toEqual([1000, 2000, 4000, 5000]);
    expect(exp.maxRetryCount).toBe(5);
    expect(retryPolicyOf(fn(undefined))).toBeUndefined();
    expect(() => retryPolicyOf(fn({ retryStrategy: 'linear', maxRetryCount: 1 }))).toThrow('linear');
  });

  it('resyncs from a listing when its checkpoint was compacted away', async () => {
    const a = await store.create('/registry/core/configmaps/default/a', { kind: 'ConfigMap', metadata: { name: 'a' } });
    await store.create(checkpointKey('feed'), { revision: a.modRevision });
    await store.delete(a.key);
    await store.create('/registry/core/configmaps/default/b', { kind: 'ConfigMap', metadata: { name: 'b' } });
    await store.compact(await store.currentRevision());
    const batches: unknown[][] = [];
    const r = runner(feedFunction(batches));
    r.start();
    await until(() => batches.length >= 1);
    await r.stop();
    expect(keysOf(batches)).toEqual(['put /registry/core/configmaps/default/b']);
    expect(Number((await store.get(checkpointKey('feed')))!.value.revision)).toBeGreaterThanOrEqual(a.modRevision + 2);
  });
});

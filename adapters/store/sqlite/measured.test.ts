/** The store metrics decorator (shared/telemetry/store.ts) over the SQLite adapter: the Store contract still holds, and every call is counted. */
import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { openSqliteStore } from './index.js';
import { describeStoreContract } from '../../../shared/store/contract.js';
import { registryValue, parseExposition, counterValue } from '../../../test/support/prometheus.js';
import { measuredStore, storeMetrics, typeOfKey } from '../../../shared/telemetry/store.js';

// The decorator keeps the Store contract (the same suite every adapter passes).
describeStoreContract('measured sqlite :memory:', async () => {
  const store = measuredStore(await openSqliteStore({ path: ':memory:' }), storeMetrics(new Registry()));
  return { store, destroy: () => store.close() };
}, { atomicWrites: true, ttl: false });

describe('store metrics as kube-apiserver names them', () => {
  it('names the type as upstream spells a group resource', () => {
    expect(typeOfKey('/registry/core/pods/default/web')).toBe('pods');
    expect(typeOfKey('/registry/apps/deployments/')).toBe('deployments.apps');
    expect(typeOfKey('/registry/ipaddresses/10.0.0.1')).toBe('ipaddresses');
    expect(typeOfKey('/registry/')).toBe('');
  });

  it('counts each call by operation and type, times it, counts only real failures as errors, and counts objects when scraped', async () => {
    const registry = new Registry();
    const store = measuredStore(await openSqliteStore({ path: ':memory:' }), storeMetrics(registry));
    try {
      const a = await store.create('/registry/core/pods/default/a', { kind: 'Pod' });
      await store.create('/registry/core/pods/default/b', { kind: 'Pod' });
      await store.create('/registry/apps/deployments/default/d', { kind: 'Deployment' });
      await store.update('/registry/core/pods/default/a', { kind: 'Pod', n: 1 }, a.modRevision);
      await expect(store.update('/registry/core/pods/default/a', { kind: 'Pod' }, a.modRevision)).rejects.toMatchObject({ reason: 'Conflict' });
      expect(await store.get('/registry/core/pods/default/nope')).toBeUndefined();
      await store.list('/registry/core/pods/');
      await store.delete('/registry/core/pods/default/b');
      await store.close();
      await expect(store.get('/registry/core/pods/default/a')).rejects.toMatchObject({ reason: 'Unavailable' });

      const value = (operation: string, type: string) => registryValue(registry, 'etcd_requests_total', { operation, type });
      expect(await value('create', 'pods')).toBe(2);
      expect(await value('create', 'deployments.apps')).toBe(1);
      expect(await value('update', 'pods')).toBe(2);
      expect(await value('get', 'pods')).toBe(2);
      expect(await value('list', 'pods')).toBe(1);
      expect(await value('delete', 'pods')).toBe(1);
      expect(await registryValue(registry, 'etcd_request_duration_seconds', { operation: 'create', type: 'pods' }, 'count')).toBe(2);
      // The conflict and the missing key are answers; the closed store is a failure.
      expect(await registryValue(registry, 'etcd_request_errors_total', { operation: 'update' })).toBe(0);
      expect(await registryValue(registry, 'etcd_request_errors_total', { operation: 'get', type: 'pods' })).toBe(1);
    } finally {
      await store.close().catch(() => undefined);
    }
  });

  it('counts stored objects per resource at scrape time, as apiserver_storage_objects', async () => {
    const registry = new Registry();
    const store = measuredStore(await openSqliteStore({ path: ':memory:' }), storeMetrics(registry));
    try {
      await store.create('/registry/core/pods/default/a', { kind: 'Pod' });
      await store.create('/registry/core/pods/kube-system/b', { kind: 'Pod' });
      await store.create('/registry/apps/deployments/default/d', { kind: 'Deployment' });
      const families = parseExposition(await registry.metrics());
      expect(counterValue(families, 'apiserver_storage_objects', { resource: 'pods' })).toBe(2);
      expect(counterValue(families, 'apiserver_storage_objects', { resource: 'deployments.apps' })).toBe(1);
      expect(counterValue(families, 'apiserver_storage_objects', { resource: 'secrets' })).toBe(0);
      await store.delete('/registry/core/pods/default/a');
      expect(counterValue(parseExposition(await registry.metrics()), 'apiserver_storage_objects', { resource: 'pods' })).toBe(1);
    } finally {
      await store.close();
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import type { StorageSchema } from '../../store/schema.js';
import { reconcileClusterStorage } from './index.js';

let f: ControllerFixture;
beforeEach(async () => {
  f = await startControllerFixture();
});
afterEach(async () => { await f.close(); });

const CLUSTERS = '/apis/coracle.io/v1/clusters';
const schema = (version: number): StorageSchema => ({ backend: 'sqlite', version,
  migrations: [{ version, description: `step ${version}`, appliedAt: '2026-12-07T10:00:00Z', release: 'v1.35.0-coracle' }] });

describe('cluster storage status', () => {
  it('writes the store\'s layout into the Cluster\'s status once, and not again while it is the same', async () => {
    await f.seed([CLUSTERS, { apiVersion: 'coracle.io/v1', kind: 'Cluster', metadata: { name: 'local' }, spec: { version: 'v1.35.0-coracle' } }]);
    f.takeWrites();
    await reconcileClusterStorage('local', { ...f.ctx, storage: schema(2) });
    expect(f.takeWrites()).toEqual(['PUT /apis/coracle.io/v1/clusters/local/status']);
    expect((await f.get(`${CLUSTERS}/local`)).status.storage).toEqual(schema(2));
    await reconcileClusterStorage('local', { ...f.ctx, storage: schema(2) });
    expect(f.takeWrites()).toEqual([]);
  });

  it('never writes an older version over a newer one (an instance still on the old release during a move)', async () => {
    await f.seed([CLUSTERS, { apiVersion: 'coracle.io/v1', kind: 'Cluster', metadata: { name: 'local' }, spec: { version: 'v1.35.0-coracle' } }]);
    await reconcileClusterStorage('local', { ...f.ctx, storage: schema(3) });
    f.takeWrites();
    await reconcileClusterStorage('local', { ...f.ctx, storage: schema(2) });
    expect(f.takeWrites()).toEqual([]);
    expect((await f.get(`${CLUSTERS}/local`)).status.storage.version).toBe(3);
  });

  it('returns quietly for a Cluster that is gone, or a process that does not know its store', async () => {
    await reconcileClusterStorage('gone', { ...f.ctx, storage: schema(2) });
    await reconcileClusterStorage('gone', f.ctx);
    expect(f.takeWrites()).toEqual([]);
  });
});

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { reconcileServiceAccounts } from './reconcile.js';
import { serviceAccountKeys } from './index.js';

const NS = '/api/v1/namespaces';
let f: ControllerFixture;
beforeEach(async () => { f = await startControllerFixture(); });
afterEach(async () => { await f.close(); });

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

describe('serviceaccount reconcile', () => {
  it('creates the default ServiceAccount of a namespace that lacks it, and then does nothing', async () => {
    await f.seed([NS, ns('team')]);
    await reconcileServiceAccounts('team', f.ctx);
    expect(f.takeWrites()).toEqual([`POST ${NS}/team/serviceaccounts`]);
    expect((await f.get(`${NS}/team/serviceaccounts/default`)).metadata.name).toBe('default');
    await reconcileServiceAccounts('team', f.ctx);
    expect(f.takeWrites()).toEqual([]);
  });

  it('returns quietly for a namespace that is gone or terminating', async () => {
    await reconcileServiceAccounts('missing', f.ctx);
    await f.seed([NS, ns('doomed')], [`${NS}/doomed/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', finalizers: ['example.com/hold'] } }]);
    await f.harness.json('DELETE', `${NS}/doomed`);
    await reconcileServiceAccounts('doomed', f.ctx);
    expect(f.takeWrites()).toEqual([]);
  });

  it('keys: a namespace written, or a default ServiceAccount deleted', () => {
    expect(serviceAccountKeys({ key: 'k', type: 'put', value: ns('a'), revision: 1 })).toEqual(['a']);
    expect(serviceAccountKeys({ key: 'k', type: 'delete', value: ns('a'), revision: 1 })).toEqual([]);
    const sa = (name: string) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'b' } });
    expect(serviceAccountKeys({ key: 'k', type: 'delete', value: sa('default'), revision: 2 })).toEqual(['b']);
    expect(serviceAccountKeys({ key: 'k', type: 'delete', value: sa('other'), revision: 2 })).toEqual([]);
    expect(serviceAccountKeys({ key: 'k', type: 'put', value: sa('default'), revision: 2 })).toEqual([]);
  });
});

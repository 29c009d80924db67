import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { reconcileRootCaConfigMap } from './reconcile.js';
import { rootCaKeys } from './index.js';

const NS = '/api/v1/namespaces';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
let f: ControllerFixture;
beforeEach(async () => { f = await startControllerFixture(); });
afterEach(async () => { await f.close(); });

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const withCa = () => ({ ...f.ctx, clusterCaPem: PEM });

describe('root CA publisher reconcile', () => {
  it('creates kube-root-ca.crt holding the CA, then does nothing', async () => {
    await f.seed([NS, ns('team')]);
    await reconcileRootCaConfigMap('team', withCa());
    expect(f.takeWrites()).toEqual([`POST ${NS}/team/configmaps`]);
    expect((await f.get(`${NS}/team/configmaps/kube-root-ca.crt`)).data).toEqual({ 'ca.crt': PEM });
    await reconcileRootCaConfigMap('team', withCa());
    expect(f.takeWrites()).toEqual([]);
  });

  it('puts the CA back when the ConfigMap was changed', async () => {
    await f.seed([NS, ns('team')], [`${NS}/team/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'tampered', extra: 'x' } }]);
    await reconcileRootCaConfigMap('team', withCa());
    expect(f.takeWrites()).toEqual([`PUT ${NS}/team/configmaps/kube-root-ca.crt`]);
    expect((await f.get(`${NS}/team/configmaps/kube-root-ca.crt`)).data).toEqual({ 'ca.crt': PEM });
  });

  it('returns quietly without a CA, or for a namespace that is gone', async () => {
    await f.seed([NS, ns('team')]);
    await reconcileRootCaConfigMap('team', f.ctx);
    await reconcileRootCaConfigMap('missing', withCa());
    expect(f.takeWrites()).toEqual([]);
  });

  it('keys: a namespace written, or its kube-root-ca.crt changed', () => {
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'b' } });
    expect(rootCaKeys({ key: 'k', type: 'put', value: ns('a'), revision: 1 })).toEqual(['a']);
    expect(rootCaKeys({ key: 'k', type: 'delete', value: ns('a'), revision: 1 })).toEqual([]);
    expect(rootCaKeys({ key: 'k', type: 'delete', value: cm('kube-root-ca.crt'), revision: 2 })).toEqual(['b']);
    expect(rootCaKeys({ key: 'k', type: 'put', value: cm('other'), revision: 2 })).toEqual([]);
  });
});

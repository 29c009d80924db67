import { describe, expect, it } from '@jest/globals';
import type { Change } from '../change.js';
import { DeploymentIndex, deploymentKeys } from './keys.js';
import { fakeDeployment, fakeReplicaSet } from './testing.js';

const put = (value: Record<string, unknown>, prevValue?: Record<string, unknown>): Change => ({ key: 'k', type: 'put', value, prevValue, revision: 1 });
const del = (value: Record<string, unknown>): Change => ({ key: 'k', type: 'delete', value, revision: 1 });

describe('deployment keys', () => {
  it('maps a Deployment to itself and a ReplicaSet to its controlling Deployment', () => {
    const index = new DeploymentIndex();
    expect(deploymentKeys(put(fakeDeployment()), index)).toEqual(['default/web']);
    expect(deploymentKeys(put(fakeReplicaSet('web-abc', { replicas: 1 })), index)).toEqual(['default/web']);
  });

  it('maps an orphan ReplicaSet to the Deployments whose selector matches it, and a re-owned one to both owners', () => {
    const index = new DeploymentIndex();
    deploymentKeys(put(fakeDeployment()), index);
    const orphan = { ...fakeReplicaSet('web-x', { replicas: 1 }), metadata: { name: 'web-x', namespace: 'default', labels: { app: 'web' } } };
    expect(deploymentKeys(put(orphan), index)).toEqual(['default/web']);
    expect(deploymentKeys(put({ ...orphan, metadata: { ...orphan.metadata, labels: { app: 'db' } } }), index)).toEqual([]);
    const other = fakeReplicaSet('web-abc', { replicas: 1 });
    (other.metadata as any).ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', controller: true }];
    expect(deploymentKeys(put(other, fakeReplicaSet('web-abc', { replicas: 1 })), index).sort()).toEqual(['default/api', 'default/web']);
  });

  it('maps a deleted pod to its Recreate Deployment only', () => {
    const index = new DeploymentIndex();
    const pod = { kind: 'Pod', metadata: { name: 'p', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', controller: true }] } };
    deploymentKeys(put(fakeReplicaSet('web-abc', { replicas: 1 })), index);
    deploymentKeys(put(fakeDeployment()), index);
    expect(deploymentKeys(del(pod), index)).toEqual([]);
    deploymentKeys(put(fakeDeployment({ strategy: 'Recreate' })), index);
    expect(deploymentKeys(del(pod), index)).toEqual(['default/web']);
    expect(deploymentKeys(put(pod), index)).toEqual([]);
  });
});

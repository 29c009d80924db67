import { describe, expect, test } from '@jest/globals';
import { hasStrategy, patchMetaFor, type PatchMeta } from './meta.js';

/** lookup walks field names from a root, as Kubernetes' LookupPatchMetadata does (lists are transparent). */
function lookup(root: PatchMeta | undefined, path: string[]): PatchMeta | undefined {
  return path.reduce<PatchMeta | undefined>((meta, name) => meta?.field(name), root);
}

describe('patchMetaFor (merge keys from the served OpenAPI definitions)', () => {
  const pod = patchMetaFor('v1', 'Pod');
  const deploy = patchMetaFor('apps/v1', 'Deployment');

  test('containers merge by name; ports by containerPort with (containerPort, protocol) map keys', () => {
    const containers = lookup(pod, ['spec', 'containers']);
    expect(hasStrategy(containers, 'merge')).toBe(true);
    expect(containers?.patchMergeKey).toBe('name');
    expect(lookup(pod, ['spec', 'containers', 'ports'])).toMatchObject({
      patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'], keyDefaults: { protocol: 'TCP' },
    });
    expect(lookup(pod, ['spec', 'containers', 'env'])?.patchMergeKey).toBe('name');
    expect(lookup(pod, ['spec', 'containers', 'volumeMounts'])?.patchMergeKey).toBe('mountPath');
    expect(lookup(pod, ['spec', 'initContainers'])?.patchMergeKey).toBe('name');
  });

  test('volumes merge by name and retain keys; tolerations and args have no strategy', () => {
    const volumes = lookup(pod, ['spec', 'volumes']);
    expect(hasStrategy(volumes, 'merge') && hasStrategy(volumes, 'retainKeys')).toBe(true);
    expect(volumes?.patchMergeKey).toBe('name');
    expect(lookup(pod, ['spec', 'tolerations'])?.patchStrategy).toBeUndefined();
    expect(lookup(pod, ['spec', 'containers', 'args'])?.patchStrategy).toBeUndefined();
  });

  test('metadata: finalizers merge as a set, ownerReferences by uid, labels are an open map', () => {
    expect(lookup(pod, ['metadata', 'finalizers'])).toMatchObject({ patchStrategy: 'merge', listType: 'set' });
    expect(lookup(pod, ['metadata', 'finalizers'])?.patchMergeKey).toBeUndefined();
    expect(lookup(pod, ['metadata', 'ownerReferences'])?.patchMergeKey).toBe('uid');
    expect(lookup(pod, ['metadata', 'labels'])?.openKeys).toBe(true);
  });

  test('conditions merge by type; deployment strategy retains keys; other kinds', () => {
    expect(lookup(pod, ['status', 'conditions'])?.patchMergeKey).toBe('type');
    expect(hasStrategy(lookup(deploy, ['spec', 'strategy']), 'retainKeys')).toBe(true);
    expect(lookup(deploy, ['spec', 'template', 'spec', 'containers'])?.patchMergeKey).toBe('name');
    expect(lookup(patchMetaFor('v1', 'Service'), ['spec', 'ports'])?.patchMergeKey).toBe('port');
    expect(lookup(patchMetaFor('v1', 'Node'), ['status', 'addresses'])?.patchMergeKey).toBe('type');
  });

  test('unknown fields and unserved kinds give undefined', () => {
    expect(lookup(pod, ['spec', 'nope'])).toBeUndefined();
    expect(patchMetaFor('batch/v1', 'Job')).toBeUndefined();
  });
});

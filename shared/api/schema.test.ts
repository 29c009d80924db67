import { patchMeta, unknownFields } from './schema.js';
import { RESOURCES, groupVersion } from './resources.js';

describe('unknownFields', () => {
  test('a valid pod has none', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'p', labels: { 'any/key': 'x' }, annotations: { a: 'b' }, ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u' }] },
      spec: {
        containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1', memory: 1024 } } }],
        affinity: { nodeAffinity: {} },
      },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    expect(unknownFields('v1', 'Pod', pod)).toEqual([]);
  });

  test('names unknown fields by path, in lists and nested structs', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod', bogus: 1,
      metadata: { name: 'p', nope: true },
      spec: { foo: 'x', containers: [{ name: 'a' }, { name: 'b', bar: 1, ports: [{ containerPort: 1, extra: 2 }] }] },
    };
    expect(unknownFields('v1', 'Pod', pod).sort()).toEqual([
      'bogus', 'metadata.nope', 'spec.containers[1].bar', 'spec.containers[1].ports[0].extra', 'spec.foo',
    ]);
  });

  test('covers every served kind and the apps/policy/coordination groups', () => {
    for (const r of RESOURCES) {
      expect(unknownFields(groupVersion(r), r.kind, { apiVersion: groupVersion(r), kind: r.kind, metadata: {}, zzz: 1 })).toEqual(['zzz']);
    }
    expect(unknownFields('apps/v1', 'Deployment', { spec: { template: { spec: { containers: [{ name: 'c', imagee: 'x' }] } } } }))
      .toEqual(['spec.template.spec.containers[0].imagee']);
  });

  test('free-form fields and maps accept anything; unserved kinds say nothing', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', data: { anything: 'x' }, binaryData: { b: 'AA==' } };
    expect(unknownFields('v1', 'ConfigMap', cm)).toEqual([]);
    const mf = { metadata: { managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': { 'f:x': {} } } }] } };
    expect(unknownFields('v1', 'Pod', mf)).toEqual([]);
    expect(unknownFields('batch/v1', 'Job', { spec: { x: 1 } })).toEqual([]);
  });
});

describe('patchMeta', () => {
  const pod = patchMeta('v1', 'Pod');

  test('containers merge by name; ports by containerPort with (containerPort, protocol) map keys', () => {
    const containers = pod.lookup(['spec', 'containers']);
    expect(containers.type).toBe('list');
    expect(containers.patchStrategies).toEqual(['merge']);
    expect(containers.patchMergeKey).toBe('name');
    expect(containers.items?.type).toBe('struct');
    const ports = pod.lookup(['spec', 'containers', 'ports']);
    expect(ports).toMatchObject({ type: 'list', patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] });
    expect(pod.lookup(['spec', 'containers', 'env']).patchMergeKey).toBe('name');
    expect(pod.lookup(['spec', 'containers', 'volumeMounts']).patchMergeKey).toBe('mountPath');
    expect(pod.lookup(['spec', 'initContainers']).patchMergeKey).toBe('name');
  });

  test('volumes merge by name and retain keys; tolerations and args are atomic', () => {
    const volumes = pod.lookup(['spec', 'volumes']);
    expect(volumes.patchStrategies).toEqual(['merge', 'retainKeys']);
    expect(volumes.patchMergeKey).toBe('name');
    const tolerations = pod.lookup(['spec', 'tolerations']);
    expect(tolerations.type).toBe('list');
    expect(tolerations.patchStrategies).toEqual([]);
    expect(tolerations.atomic).toBe(true);
    expect(pod.lookup(['spec', 'containers', 'args']).patchStrategies).toEqual([]);
  });

  test('metadata: finalizers merge as a set, ownerReferences by uid, labels are a map', () => {
    expect(pod.lookup(['metadata', 'finalizers'])).toMatchObject({ type: 'list', patchStrategies: ['merge'], listType: 'set' });
    expect(pod.lookup(['metadata', 'finalizers']).patchMergeKey).toBeUndefined();
    expect(pod.lookup(['metadata', 'ownerReferences']).patchMergeKey).toBe('uid');
    const labels = pod.lookup(['metadata', 'labels']);
    expect(labels.type).toBe('map');
    expect(labels.field('app').type).toBe('scalar');
  });

  test('conditions merge by type; deployment strategy retains keys; selector is atomic', () => {
    expect(pod.lookup(['status', 'conditions']).patchMergeKey).toBe('type');
    const deploy = patchMeta('apps/v1', 'Deployment');
    expect(deploy.lookup(['spec', 'strategy'])).toMatchObject({ type: 'struct', patchStrategies: ['retainKeys'] });
    expect(deploy.lookup(['spec', 'selector']).atomic).toBe(true);
    expect(deploy.lookup(['spec', 'template', 'spec', 'containers']).patchMergeKey).toBe('name');
    expect(deploy.lookup(['status', 'conditions']).patchMergeKey).toBe('type');
    expect(patchMeta('v1', 'Service').lookup(['spec', 'ports']).patchMergeKey).toBe('port');
    expect(patchMeta('v1', 'Node').lookup(['status', 'addresses']).patchMergeKey).toBe('type');
  });

  test('scalars, int-or-string, unknown fields and unserved kinds', () => {
    expect(pod.lookup(['spec', 'nodeName']).type).toBe('scalar');
    expect(patchMeta('apps/v1', 'Deployment').lookup(['spec', 'strategy', 'rollingUpdate', 'maxSurge']).type).toBe('scalar');
    expect(pod.lookup(['spec', 'nope']).type).toBe('unknown');
    expect(pod.lookup(['metadata', 'managedFields', 'fieldsV1']).type).toBe('unknown');
    expect(patchMeta('batch/v1', 'Job').type).toBe('unknown');
    expect(patchMeta('v1', 'Pod')).toBe(pod);
  });
});

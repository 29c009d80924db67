import { unknownFields } from './schema.js';
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

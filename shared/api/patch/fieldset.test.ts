import { FieldSet, compareObjects, pathString, toFieldSet } from './fieldset.js';
import { patchMetaFor } from './meta.js';

const POD = patchMetaFor('v1', 'Pod');

describe('FieldSet', () => {
  it('round-trips the FieldsV1 encoding, members marked with "."', () => {
    const fieldsV1 = { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } }, 'f:replicas': {} } };
    const set = FieldSet.fromFieldsV1(fieldsV1);
    expect(set.has(['f:spec', 'f:containers', 'k:{"name":"a"}'])).toBe(true);
    expect(set.has(['f:spec', 'f:containers'])).toBe(false);
    expect(set.toFieldsV1()).toEqual({ 'f:spec': { 'f:replicas': {}, 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } } } });
    expect(Object.keys(set.toFieldsV1()['f:spec'] as object)).toEqual(['f:containers', 'f:replicas']);
  });

  it('orders fields before keys before values, as structured-merge-diff does', () => {
    const set = FieldSet.of([['v:"b"'], ['k:{"a":1}'], ['f:z'], ['f:a']]);
    expect(Object.keys(set.toFieldsV1())).toEqual(['f:a', 'f:z', 'k:{"a":1}', 'v:"b"']);
  });

  it.each([
    [['f:spec', 'f:replicas'], '.spec.replicas'],
    [['f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'], '.spec.containers[name="web"].image'],
    [['f:spec', 'f:ports', 'k:{"containerPort":80,"protocol":"TCP"}'], '.spec.ports[containerPort=80,protocol="TCP"]'],
    [['f:metadata', 'f:finalizers', 'v:"x/y"'], '.metadata.finalizers[="x/y"]'],
  ])('prints %j as %s', (path, text) => {
    expect(pathString(path)).toBe(text);
  });

  it('computes set algebra', () => {
    const a = FieldSet.of([['f:a'], ['f:b', 'f:c']]);
    const b = FieldSet.of([['f:b', 'f:c'], ['f:d']]);
    expect(a.union(b).paths()).toEqual([['f:a'], ['f:d'], ['f:b', 'f:c']]);
    expect(a.difference(b).paths()).toEqual([['f:a']]);
    expect(a.intersection(b).paths()).toEqual([['f:b', 'f:c']]);
  });
});

describe('toFieldSet and compareObjects', () => {
  it('owns list-map items by key (with the TCP default) and atomic lists whole', () => {
    const set = toFieldSet({ spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }], args: ['x'] }], tolerations: [{ key: 'k' }] } }, POD);
    expect(set.toFieldsV1()).toEqual({ 'f:spec': {
      'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:args': {}, 'f:name': {},
        'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } },
      'f:tolerations': {},
    } });
  });

  it('reports added, modified and removed fields, with added items as members', () => {
    const diff = compareObjects(
      { metadata: { labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'x', image: '1' }] } },
      { metadata: { labels: { a: '9' } }, spec: { containers: [{ name: 'x', image: '1' }, { name: 'y', image: '2' }] } }, POD);
    expect(diff.modified.paths()).toEqual([['f:metadata', 'f:labels', 'f:a']]);
    expect(diff.removed.paths()).toEqual([['f:metadata', 'f:labels', 'f:b']]);
    expect(diff.added.toFieldsV1()).toEqual({ 'f:spec': { 'f:containers': { 'k:{"name":"y"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } });
  });
});

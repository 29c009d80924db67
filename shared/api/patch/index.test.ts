import { applyPatch } from './index.js';
import { ApiError } from '../status.js';

const POD = { apiVersion: 'v1', kind: 'Pod' };
const DEPLOY = { apiVersion: 'apps/v1', kind: 'Deployment' };

function pod(): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'fe' }, finalizers: ['a/one', 'b/two'] },
    spec: {
      containers: [
        { name: 'app', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }],
          env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }] },
        { name: 'sidecar', image: 'busybox', args: ['sleep', '1000'] },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
      tolerations: [{ key: 'k1', operator: 'Exists' }],
    },
  };
}

function deployment(): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'patch-demo' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'nginx' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [{ name: 'patch-demo-ctr', image: 'nginx' }],
          tolerations: [{ effect: 'NoSchedule', key: 'dedicated', value: 'test-team' }],
        },
      },
    },
  };
}

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

const containers = (obj: Record<string, unknown>): Array<Record<string, unknown>> =>
  ((obj.spec as Record<string, unknown>).containers as Array<Record<string, unknown>>);
const templateSpec = (obj: Record<string, unknown>): Record<string, unknown> =>
  (((obj.spec as Record<string, unknown>).template as Record<string, unknown>).spec as Record<string, unknown>);

describe('applyPatch json (RFC 6902)', () => {
  it.each([
    ['add a label', [{ op: 'add', path: '/metadata/labels/env', value: 'prod' }], (o: any) => o.metadata.labels.env === 'prod'],
    ['replace an image', [{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.27' }], (o: any) => o.spec.containers[0].image === 'nginx:1.27'],
    ['remove a label', [{ op: 'remove', path: '/metadata/labels/tier' }], (o: any) => !('tier' in o.metadata.labels)],
    ['append to a list', [{ op: 'add', path: '/metadata/finalizers/-', value: 'c/three' }], (o: any) => o.metadata.finalizers[2] === 'c/three'],
    ['move', [{ op: 'move', from: '/metadata/labels/tier', path: '/metadata/labels/layer' }], (o: any) => o.metadata.labels.layer === 'fe' && !o.metadata.labels.tier],
    ['copy', [{ op: 'copy', from: '/metadata/name', path: '/metadata/labels/name' }], (o: any) => o.metadata.labels.name === 'web'],
    ['test that passes, then replace', [{ op: 'test', path: '/metadata/name', value: 'web' }, { op: 'replace', path: '/metadata/name', value: 'web2' }], (o: any) => o.metadata.name === 'web2'],
    ['escaped pointer', [{ op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'x' }], (o: any) => o.metadata.labels['app.kubernetes.io/name'] === 'x'],
  ])('%s', (_name, ops, check) => {
    const original = pod();
    const before = structuredClone(original);
    const out = applyPatch('json', original, ops, POD);
    expect(check(out)).toBe(true);
    expect(original).toEqual(before);
  });

  it.each([
    ['a failed test', [{ op: 'test', path: '/metadata/name', value: 'other' }]],
    ['remove of a missing path', [{ op: 'remove', path: '/spec/affinity' }]],
    ['replace of a missing path', [{ op: 'replace', path: '/metadata/annotations/x', value: 'y' }]],
    ['an unknown op', [{ op: 'frobnicate', path: '/metadata/name' }]],
  ])('answers 422 Invalid for %s, as Kubernetes does', (_name, ops) => {
    const err = errorOf(() => applyPatch('json', pod(), ops, POD));
    expect(err.code).toBe(422);
    expect(err.reason).toBe('Invalid');
    expect(err.message).toBe('the server rejected our request due to an error in our request');
  });

  it('does not apply earlier operations when a later one fails', () => {
    const original = pod();
    errorOf(() => applyPatch('json', original, [{ op: 'replace', path: '/metadata/name', value: 'x' }, { op: 'test', path: '/metadata/name', value: 'nope' }], POD));
    expect((original.metadata as any).name).toBe('web');
  });

  it.each([
    ['an object instead of an array', { op: 'add', path: '/a', value: 1 }],
    ['a non-object operation', ['add']],
  ])('answers 400 for %s', (_name, patch) => {
    expect(errorOf(() => applyPatch('json', pod(), patch, POD)).code).toBe(400);
  });

  it('answers 413 past 10000 operations', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Pod' }));
    expect(errorOf(() => applyPatch('json', pod(), ops, POD)).code).toBe(413);
  });

  it.each([
    ['__proto__ in a path', [{ op: 'add', path: '/__proto__/polluted', value: 'yes' }]],
    ['__proto__ nested', [{ op: 'add', path: '/metadata/__proto__/polluted', value: 'yes' }]],
    ['constructor/prototype', [{ op: 'add', path: '/constructor/prototype/polluted', value: 'yes' }]],
    ['__proto__ as from', [{ op: 'copy', from: '/__proto__', path: '/metadata/x' }]],
    ['__proto__ inside a value', [{ op: 'add', path: '/metadata/annotations', value: JSON.parse('{"__proto__":{"polluted":"yes"}}') }]],
  ])('rejects %s with 400 and pollutes nothing', (_name, ops) => {
    const err = errorOf(() => applyPatch('json', pod(), ops, POD));
    expect(err.code).toBe(400);
    expect(({} as any).polluted).toBeUndefined();
    expect((Object.prototype as any).polluted).toBeUndefined();
  });
});

describe('applyPatch merge (RFC 7386)', () => {
  it('merges nested maps, deletes on null and leaves the original alone', () => {
    const original = pod();
    const before = structuredClone(original);
    const out: any = applyPatch('merge', original, { metadata: { labels: { env: 'prod', tier: null }, annotations: { a: 'b' } } }, POD);
    expect(out.metadata.labels).toEqual({ app: 'web', env: 'prod' });
    expect(out.metadata.annotations).toEqual({ a: 'b' });
    expect(original).toEqual(before);
  });

  it('replaces lists whole', () => {
    const out: any = applyPatch('merge', pod(), { spec: { containers: [{ name: 'only', image: 'x' }] } }, POD);
    expect(out.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('replaces a scalar with a map and a map with a scalar', () => {
    const out: any = applyPatch('merge', pod(), { metadata: { labels: 'x' }, kind: { a: 1, b: null } }, POD);
    expect(out.metadata.labels).toBe('x');
    expect(out.kind).toEqual({ a: 1 });
  });

  it.each([[null], [[1, 2]], ['str'], [3]])('answers 400 for a non-object patch %p', (patch) => {
    expect(errorOf(() => applyPatch('merge', pod(), patch, POD)).code).toBe(400);
  });

  it('rejects __proto__ and constructor keys with 400', () => {
    expect(errorOf(() => applyPatch('merge', pod(), JSON.parse('{"metadata":{"__proto__":{"polluted":1}}}'), POD)).code).toBe(400);
    expect(errorOf(() => applyPatch('merge', pod(), { constructor: { prototype: { polluted: 1 } } }, POD)).code).toBe(400);
    expect(({} as any).polluted).toBeUndefined();
  });
});

describe('applyPatch strategic (Kubernetes strategic merge patch)', () => {
  it('adds a container by name; new patch items come first, as kubectl patch shows', () => {
    const out = applyPatch('strategic', deployment(), { spec: { template: { spec: { containers: [{ name: 'patch-demo-ctr-2', image: 'redis' }] } } } }, DEPLOY);
    expect(templateSpec(out).containers).toEqual([
      { name: 'patch-demo-ctr-2', image: 'redis' },
      { name: 'patch-demo-ctr', image: 'nginx' },
    ]);
  });

  it('replaces tolerations (no patch strategy) instead of merging them', () => {
    const out = applyPatch('strategic', deployment(), { spec: { template: { spec: { tolerations: [{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }] } } } }, DEPLOY);
    expect(templateSpec(out).tolerations).toEqual([{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }]);
  });

  it('changes one image by name and keeps every other field and container', () => {
    const out = applyPatch('strategic', pod(), { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } }, POD);
    expect(containers(out).map((c) => [c.name, c.image])).toEqual([['app', 'nginx:1.25'], ['sidecar', 'busybox:1.36']]);
    expect(containers(out)[1]!.args).toEqual(['sleep', '1000']);
    expect(containers(out)[0]!.env).toHaveLength(2);
  });

  it('merges env by name: updates one, adds one, deletes one with null-free $patch: delete', () => {
    const patch = { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '20' }, { name: 'C', value: '3' }, { name: 'A', $patch: 'delete' }] }] } };
    const out = applyPatch('strategic', pod(), patch, POD);
    expect(containers(out)[0]!.env).toEqual([{ name: 'B', value: '20' }, { name: 'C', value: '3' }]);
  });

  it('merges ports by containerPort', () => {
    const patch = { spec: { containers: [{ name: 'app', ports: [{ containerPort: 443, protocol: 'TCP' }, { containerPort: 80, name: 'http' }] }] } };
    const out = applyPatch('strategic', pod(), patch, POD);
    expect(containers(out)[0]!.ports).toEqual([{ containerPort: 443, protocol: 'TCP' }, { containerPort: 80, protocol: 'TCP', name: 'http' }]);
  });

  it('deletes a container with $patch: delete', () => {
    const out = applyPatch('strategic', pod(), { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } }, POD);
    expect(containers(out).map((c) => c.name)).toEqual(['app']);
  });

  it('replaces a whole list with $patch: replace', () => {
    const out = applyPatch('strategic', pod(), { spec: { containers: [{ name: 'solo', image: 'x' }, { $patch: 'replace' }] } }, POD);
    expect(containers(out)).toEqual([{ name: 'solo', image: 'x' }]);
  });

  it('replaces a map with $patch: replace and empties it with $patch: delete', () => {
    const replaced: any = applyPatch('strategic', pod(), { metadata: { labels: { only: 'me', $patch: 'replace' } } }, POD);
    expect(replaced.metadata.labels).toEqual({ only: 'me' });
    const deleted: any = applyPatch('strategic', pod(), { metadata: { labels: { $patch: 'delete' } } }, POD);
    expect(deleted.metadata.labels).toEqual({});
  });

  it('unions finalizers (a merge set) and removes with $deleteFromPrimitiveList', () => {
    const added: any = applyPatch('strategic', pod(), { metadata: { finalizers: ['c/three', 'a/one'] } }, POD);
    expect([...added.metadata.finalizers].sort()).toEqual(['a/one', 'b/two', 'c/three']);
    const removed: any = applyPatch('strategic', pod(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a/one'] } }, POD);
    expect(removed.metadata.finalizers).toEqual(['b/two']);
  });

  it('orders containers by $setElementOrder', () => {
    const patch = { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }], containers: [{ name: 'app', image: 'nginx:2' }] } };
    const out = applyPatch('strategic', pod(), patch, POD);
    expect(containers(out).map((c) => [c.name, c.image])).toEqual([['sidecar', 'busybox'], ['app', 'nginx:2']]);
  });

  it('orders primitive lists by $setElementOrder', () => {
    const out: any = applyPatch('strategic', pod(), { metadata: { '$setElementOrder/finalizers': ['b/two', 'c/three', 'a/one'], finalizers: ['c/three'] } }, POD);
    expect(out.metadata.finalizers).toEqual(['b/two', 'c/three', 'a/one']);
  });

  it('clears keys outside $retainKeys (deployment strategy)', () => {
    const out: any = applyPatch('strategic', deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, DEPLOY);
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    const without: any = applyPatch('strategic', deployment(), { spec: { strategy: { type: 'Recreate' } } }, DEPLOY);
    expect(without.spec.strategy.rollingUpdate).toBeDefined();
  });

  it('answers 400 when a patch key is missing from $retainKeys', () => {
    const err = errorOf(() => applyPatch('strategic', deployment(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } }, DEPLOY));
    expect([err.code, err.message]).toEqual([400, 'invalid patch format of retainKeys']);
  });

  it('deletes with null and ignores unmatched nulls', () => {
    const out: any = applyPatch('strategic', pod(), { metadata: { labels: { tier: null, nothing: null } } }, POD);
    expect(out.metadata.labels).toEqual({ app: 'web' });
  });

  it('drops directives and nulls inside values it adds whole', () => {
    const out: any = applyPatch('strategic', pod(), { spec: { nodeSelector: { a: 'b', c: null }, containers: [{ name: 'new', image: 'x', env: [{ name: 'Z', $patch: 'delete' }] }] } }, POD);
    expect(out.spec.nodeSelector).toEqual({ a: 'b' });
    expect(containers(out)[0]).toEqual({ name: 'new', image: 'x', env: [] });
  });

  it("answers 400 (kube-apiserver: 500) with Kubernetes' message when a merge key is missing", () => {
    const err = errorOf(() => applyPatch('strategic', pod(), { spec: { containers: [{ image: 'nginx' }] } }, POD));
    expect(err.code).toBe(400);
    expect(err.message).toBe('map: map[image:nginx] does not contain declared merge key: name');
  });

  it('answers 422 for a list of lists in a merging list', () => {
    const err = errorOf(() => applyPatch('strategic', pod(), { metadata: { finalizers: [['x']] } }, POD));
    expect(err.code).toBe(422);
  });

  it('answers 400 for a non-object patch and for __proto__', () => {
    expect(errorOf(() => applyPatch('strategic', pod(), [1], POD)).code).toBe(400);
    expect(errorOf(() => applyPatch('strategic', pod(), JSON.parse('{"spec":{"__proto__":{"polluted":1}}}'), POD)).code).toBe(400);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('replaces every list for a kind it does not serve', () => {
    const out: any = applyPatch('strategic', { spec: { items: [{ name: 'a' }] } }, { spec: { items: [{ name: 'b' }] } }, { apiVersion: 'example.com/v1', kind: 'Widget' });
    expect(out.spec.items).toEqual([{ name: 'b' }]);
  });

  it('never mutates the original', () => {
    const original = pod();
    const before = structuredClone(original);
    applyPatch('strategic', original, { metadata: { labels: { $patch: 'replace', a: 'b' } }, spec: { containers: [{ name: 'app', image: 'z' }] } }, POD);
    expect(original).toEqual(before);
  });
});

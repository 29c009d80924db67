import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../api/objects.js';
import type { Change } from '../change.js';
import { startControllerFixture, type ControllerFixture } from '../../../test/support/controller-fixture.js';
import { POD_CIDR_PREFIX, podCIDRRange, storePodCIDRAllocator, type PodCIDRAllocator } from './cidrs.js';
import { nodeCIDRKeys, nodeIpamController } from './index.js';
import { reconcileNodeCIDR } from './reconcile.js';

const node = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec });
const change = (type: Change['type'], value: KubeObject, prevValue?: KubeObject): Change => ({ key: 'k', type, value, prevValue, revision: 3 });

let f: ControllerFixture;
let allocator: PodCIDRAllocator;
beforeEach(async () => {
  await f?.close();
  f = await startControllerFixture();
  allocator = storePodCIDRAllocator(f.harness.store, podCIDRRange('10.244.0.0/22')); // 4 subnets of /24
});
afterAll(async () => f?.close());

const cidrOf = async (name: string) => (await f.get(`/api/v1/nodes/${name}`))?.spec;
const held = async () => (await f.harness.store.list(POD_CIDR_PREFIX)).items.map((kv) => `${kv.key.slice(POD_CIDR_PREFIX.length)} ${(kv.value.spec as any).parentRef.name}`).sort();

describe('node IPAM controller', () => {
  it('keys a Node\'s creation, deletion and pod CIDR change, not its heartbeats', () => {
    expect(nodeCIDRKeys(change('put', node('n1')))).toEqual(['n1']);
    expect(nodeCIDRKeys(change('delete', node('n1'), node('n1')))).toEqual(['n1']);
    expect(nodeCIDRKeys(change('put', { ...node('n1'), status: { phase: 'x' } }, node('n1')))).toEqual([]);
    expect(nodeCIDRKeys(change('put', node('n1', { podCIDR: '10.244.0.0/24' }), node('n1')))).toEqual(['n1']);
  });

  it('gives each registered Node its own CIDR with one merge patch, and a second reconcile writes nothing', async () => {
    await f.seed(['/api/v1/nodes', node('a')], ['/api/v1/nodes', node('b')], ['/api/v1/nodes', node('c')]);
    f.takeWrites();
    await Promise.all(['a', 'b', 'c'].map((n) => reconcileNodeCIDR(n, f.ctx, allocator)));
    expect(f.takeWrites().sort()).toEqual(['PATCH /api/v1/nodes/a', 'PATCH /api/v1/nodes/b', 'PATCH /api/v1/nodes/c']);
    const specs = await Promise.all(['a', 'b', 'c'].map(cidrOf));
    for (const spec of specs) expect(spec.podCIDRs).toEqual([spec.podCIDR]);
    expect(new Set(specs.map((s) => s.podCIDR)).size).toBe(3);
    expect(await held()).toEqual(specs.map((s, i) => `${s.podCIDR.replace('/', '-')} ${'abc'[i]}`).sort());
    await reconcileNodeCIDR('a', f.ctx, allocator);
    expect(f.takeWrites()).toEqual([]);
  });

  it('two allocators racing for one Node: the API takes the first patch and refuses the second (422), and the loser\'s CIDR is released at the next reconcile', async () => {
    await f.seed(['/api/v1/nodes', node('a')]);
    const other = storePodCIDRAllocator(f.harness.store, podCIDRRange('10.244.0.0/22'));
    // The other instance allocates and sets a's CIDR between this reconcile's allocation and its patch.
    const client = Object.create(f.ctx.client);
    client.patch = async (...args: any[]) => {
      const ours = args[2].spec.podCIDR as string;
      const theirs = ['10.244.0.0/24', '10.244.1.0/24'].find((c) => c !== ours)!;
      await other.occupy('a', theirs);
      const res = await f.harness.json('PATCH', '/api/v1/nodes/a', { spec: { podCIDR: theirs, podCIDRs: [theirs] } }, { 'content-type': 'application/merge-patch+json' });
      expect(res.status).toBe(200);
      return (f.ctx.client.patch as any)(...args);
    };
    f.takeWrites();
    await reconcileNodeCIDR('a', { ...f.ctx, client }, allocator);
    expect(f.takeWrites()).toEqual(['PATCH /api/v1/nodes/a']);
    const spec = await cidrOf('a');
    expect((await held()).length).toBe(2);
    await reconcileNodeCIDR('a', f.ctx, allocator);
    expect(await held()).toEqual([`${spec.podCIDR.replace('/', '-')} a`]);
    expect((await cidrOf('a')).podCIDRs).toEqual([spec.podCIDR]);
  });

  it('refuses to change a Node\'s pod CIDR once set, with upstream\'s message', async () => {
    await f.seed(['/api/v1/nodes', node('a', { podCIDR: '10.244.1.0/24' })]);
    expect((await cidrOf('a')).podCIDRs).toEqual(['10.244.1.0/24']);
    const res = await f.harness.json('PATCH', '/api/v1/nodes/a', { spec: { podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24'] } }, { 'content-type': 'application/merge-patch+json' });
    expect(res.status).toBe(422);
    expect(res.body.message).toBe('Node "a" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid');
    const bad = await f.harness.json('POST', '/api/v1/nodes', node('b', { podCIDRs: ['10.244.1.0'] }));
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.podCIDRs[0]', message: 'Invalid value: "10.244.1.0": invalid CIDR address: 10.244.1.0' }]);
  });

  it('when the range is exhausted: the CIDRNotAvailable event and a failed reconcile; a deleted Node\'s CIDR then goes to the waiting one', async () => {
    const names = ['n0', 'n1', 'n2', 'n3', 'n4'];
    await f.seed(...names.map((n): [string, KubeObject] => ['/api/v1/nodes', node(n)]));
    for (const n of names.slice(0, 4)) await reconcileNodeCIDR(n, f.ctx, allocator);
    await expect(reconcileNodeCIDR('n4', f.ctx, allocator)).rejects.toThrow('failed to allocate cidr from cluster cidr 10.244.0.0/22: CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
    const events = (await f.get('/api/v1/namespaces/default/events')).items;
    expect(events.map((e: any) => [e.involvedObject.kind, e.involvedObject.name, e.type, e.reason, e.message, e.source.component])).toEqual([
      ['Node', 'n4', 'Normal', 'CIDRNotAvailable', 'Node n4 status is now: CIDRNotAvailable', 'cidrAllocator'],
    ]);
    expect((await cidrOf('n4')).podCIDR).toBeUndefined();
    const freed = (await cidrOf('n2')).podCIDR;
    expect((await f.harness.json('DELETE', '/api/v1/nodes/n2')).status).toBe(200);
    await reconcileNodeCIDR('n2', f.ctx, allocator);
    await reconcileNodeCIDR('n4', f.ctx, allocator);
    expect((await cidrOf('n4')).podCIDR).toBe(freed);
  });

  it('resync repairs: a Node\'s CIDR without allocation is recorded, a deleted Node\'s old allocation released; Nodes without a CIDR are queued', async () => {
    await f.seed(['/api/v1/nodes', node('kept', { podCIDR: '10.244.2.0/24' })], ['/api/v1/nodes', node('fresh')]);
    await allocator.occupy('deleted', '10.244.3.0/24');
    const controller = nodeIpamController(async () => allocator);
    const later = { ...f.ctx, now: () => new Date(Date.now() + 120_000) };
    expect(await controller.resync(later)).toEqual(['fresh']);
    expect(await held()).toEqual(['10.244.2.0-24 kept']);
  });
});

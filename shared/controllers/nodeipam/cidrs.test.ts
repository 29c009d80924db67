import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type Harness } from '../../../test/support/apiserver.js';
import { AllocationError } from '../../apiserver/allocator.js';
import { NO_CIDRS_LEFT, POD_CIDR_PREFIX, podCIDRRange, storePodCIDRAllocator } from './cidrs.js';

let h: Harness;
beforeAll(async () => {
  h = await startApiServer();
});
afterAll(async () => h?.close());

/** allocations lists the store's pod CIDR keys as `cidr → node`. */
async function allocations(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const kv of (await h.store.list(POD_CIDR_PREFIX)).items) {
    out[kv.key.slice(POD_CIDR_PREFIX.length).replace('-', '/')] = String((kv.value.spec as { parentRef: { name: string } }).parentRef.name);
  }
  return out;
}

async function clear(): Promise<void> {
  for (const kv of (await h.store.list(POD_CIDR_PREFIX)).items) await h.store.delete(kv.key, kv.modRevision);
}

describe('podCIDRRange', () => {
  it('cuts the cluster CIDR into subnets of the mask size', () => {
    const r = podCIDRRange('10.244.0.0/16');
    expect([r.first, r.last, r.text]).toEqual([0, 255, '10.244.0.0/16']);
    expect(r.render(0)).toBe('10.244.0.0-24');
    expect(r.render(255)).toBe('10.244.255.0-24');
    expect(r.parse('10.244.7.0-24')).toBe(7);
    // Not one of the range's subnets: another mask, unaligned, outside.
    expect([r.parse('10.244.7.0-25'), r.parse('10.244.7.5-24'), r.parse('10.245.0.0-24'), r.parse('junk')]).toEqual([undefined, undefined, undefined, undefined]);
    const wide = podCIDRRange('10.244.1.2/22', 26);
    expect([wide.text, wide.last, wide.render(5)]).toEqual(['10.244.0.0/22', 15, '10.244.1.64-26']);
  });

  it('refuses a malformed CIDR or a mask that does not fit', () => {
    expect(() => podCIDRRange('10.244.0.0')).toThrow('expected an IPv4 CIDR');
    expect(() => podCIDRRange('10.244.0.0/16', 16)).toThrow('must be longer than the cluster CIDR');
    expect(() => podCIDRRange('10.244.0.0/16', 31)).toThrow('at most 30');
  });
});

describe('storePodCIDRAllocator', () => {
  it('never hands a CIDR out twice under 50 concurrent allocations from two allocators (two controller instances)', async () => {
    await clear();
    const range = podCIDRRange('10.244.0.0/18'); // 64 subnets
    const [a, b] = [storePodCIDRAllocator(h.store, range), storePodCIDRAllocator(h.store, range)];
    const got = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).allocate(`node-${i}`)));
    expect(new Set(got).size).toBe(50);
    for (const cidr of got) expect(cidr).toMatch(/^10\.244\.([0-9]|[1-5][0-9]|6[0-3])\.0\/24$/);
    const stored = await allocations();
    expect(Object.keys(stored).sort()).toEqual([...got].sort());
    got.forEach((cidr, i) => expect(stored[cidr]).toBe(`node-${i}`));
    // A retry for a node gives the CIDR it already holds.
    expect(await a.allocate('node-7')).toBe(got[7]);
  });

  it('gives exactly as many CIDRs as the range holds, and then fails with upstream\'s message', async () => {
    await clear();
    const allocator = storePodCIDRAllocator(h.store, podCIDRRange('10.244.0.0/20')); // 16 subnets
    const results = await Promise.allSettled(Array.from({ length: 24 }, (_, i) => allocator.allocate(`n${i}`)));
    const ok = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled').map((r) => r.value);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    expect(ok.length).toBe(16);
    expect(new Set(ok).size).toBe(16);
    expect(failed.length).toBe(8);
    for (const err of failed) expect(err).toEqual(new AllocationError('Full', NO_CIDRS_LEFT));
    // A release makes room for one more.
    const freed = (await allocations());
    const [cidr, holder] = Object.entries(freed)[0];
    await allocator.release(holder);
    expect(await allocator.allocate('late')).toBe(cidr);
  });

  it('occupies a given CIDR once: another node\'s is Allocated, one outside the range NotInRange', async () => {
    await clear();
    const allocator = storePodCIDRAllocator(h.store, podCIDRRange('10.244.0.0/16'));
    await allocator.occupy('a', '10.244.9.0/24');
    await allocator.occupy('a', '10.244.9.0/24');
    await expect(allocator.occupy('b', '10.244.9.0/24')).rejects.toMatchObject({ reason: 'Allocated', message: 'provided CIDR is already allocated' });
    await expect(allocator.occupy('b', '10.9.0.0/24')).rejects.toMatchObject({ reason: 'NotInRange', message: 'provided CIDR is not in the valid range. The range of valid CIDRs is 10.244.0.0/16' });
    await expect(allocator.occupy('b', '10.244.9.128/25')).rejects.toMatchObject({ reason: 'NotInRange' });
  });

  it('repairs: a held CIDR without an allocation gets one, an allocation no node holds is released once older than a minute', async () => {
    await clear();
    const allocator = storePodCIDRAllocator(h.store, podCIDRRange('10.244.0.0/16'));
    await allocator.occupy('gone', '10.244.1.0/24');
    await allocator.occupy('other', '10.244.3.0/24');
    // Within the grace period (a write may be in flight): nothing released.
    let report = await allocator.repair([{ node: 'kept', cidr: '10.244.2.0/24' }, { node: 'other', cidr: '10.244.3.0/24' }]);
    expect(report).toEqual({ allocated: ['10.244.2.0-24'], released: [], conflicts: [] });
    report = await allocator.repair([{ node: 'kept', cidr: '10.244.2.0/24' }, { node: 'clash', cidr: '10.244.3.0/24' }, { node: 'other', cidr: '10.244.3.0/24' }], new Date(Date.now() + 120_000));
    expect(report.released).toEqual(['10.244.1.0-24']);
    expect(report.conflicts).toEqual(['10.244.3.0-24 (clash): provided CIDR is already allocated']);
    expect(await allocations()).toEqual({ '10.244.2.0/24': 'kept', '10.244.3.0/24': 'other' });
  });
});

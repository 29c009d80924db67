/**
 * The NodeProvider contract suite: every adapter runs it
 * (`describeNodeProviderContract('local', open)`), through the port alone. Excluded from the
 * build. Each test works in a pool of its own (fresh random name), so one provider serves the
 * whole suite and a backend that keeps pools between runs needs no cleanup between tests.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { isDNS1123Subdomain } from '../api/validation.js';
import { NodeProviderError, type NodeProvider, type NodeProviderErrorReason } from './provider.js';

/** NodeProviderHarness is one provider for the suite. */
export interface NodeProviderHarness {
  provider: NodeProvider;
  /** destroy closes the provider and deletes what the suite made. */
  destroy(): Promise<void>;
}

/** NodeProviderContractOptions tune the suite to a backend. */
export interface NodeProviderContractOptions {
  /** Per-test timeout (default 60 s; a real cloud needs many minutes). */
  timeoutMs?: number;
  /** A pool name for a test (default: `p` + 6 random hex digits). */
  poolName?: () => string;
}

/** expectReason expects `promise` to fail with a NodeProviderError of `reason` (the contract suites of this side share it). */
export async function expectReason(promise: Promise<unknown>, reason: NodeProviderErrorReason): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(err instanceof NodeProviderError ? err.reason : err).toBe(reason);
    return;
  }
  throw new Error(`expected a NodeProviderError ${reason}, but the call succeeded`);
}

/** describeNodeProviderContract declares the contract tests for one adapter. */
export function describeNodeProviderContract(name: string, open: () => Promise<NodeProviderHarness>, options: NodeProviderContractOptions = {}): void {
  const timeout = options.timeoutMs ?? 60_000;
  const poolName = options.poolName ?? (() => `p${randomBytes(3).toString('hex')}`);
  describe(`NodeProvider contract: ${name}`, () => {
    let harness: NodeProviderHarness;
    let provider: NodeProvider;
    beforeAll(async () => {
      harness = await open();
      provider = harness.provider;
    }, timeout);
    afterAll(async () => harness?.destroy(), timeout);

    it('lists an unknown pool as empty', async () => {
      expect(await provider.list(poolName())).toEqual([]);
    }, timeout);

    it('adds nodes at a version, each with a distinct name, listed in the pool and nowhere else', async () => {
      const pool = poolName();
      const other = poolName();
      const a = await provider.add(pool, '1.0.0');
      const b = await provider.add(pool, '1.0.0');
      expect(a.name).not.toBe(b.name);
      for (const node of [a, b]) {
        // The name is the Node's: a DNS-1123 subdomain (Azure's host names may hold capitals; the Node's may not).
        expect(isDNS1123Subdomain(node.name)).toEqual([]);
        expect(node).toMatchObject({ pool, version: '1.0.0' });
        expect(['creating', 'running']).toContain(node.state);
        expect(node.providerId).not.toBe('');
      }
      const listed = await provider.list(pool);
      expect(listed.map((n) => n.name).sort()).toEqual([a.name, b.name].sort());
      expect(listed.every((n) => n.pool === pool && n.version === '1.0.0')).toBe(true);
      expect(await provider.list(other)).toEqual([]);
    }, timeout);

    it('replaces a node in place: same name, new version, the other nodes untouched', async () => {
      const pool = poolName();
      const a = await provider.add(pool, '1.0.0');
      const b = await provider.add(pool, '1.0.0');
      const replaced = await provider.replace(pool, a.name, '1.1.0');
      expect(replaced).toMatchObject({ name: a.name, pool, version: '1.1.0' });
      const byName = new Map((await provider.list(pool)).map((n) => [n.name, n]));
      expect(byName.size).toBe(2);
      expect(byName.get(a.name)?.version).toBe('1.1.0');
      expect(byName.get(b.name)?.version).toBe('1.0.0');
      // A pool runs mixed versions during an upgrade: adding at the old version still works.
      expect((await provider.add(pool, '1.0.0')).version).toBe('1.0.0');
    }, timeout);

    it('fails to replace a node that does not exist with NotFound', async () => {
      const pool = poolName();
      await expectReason(provider.replace(pool, `${pool}-missing`, '1.0.0'), 'NotFound');
      const a = await provider.add(pool, '1.0.0');
      // A node of another pool is not found in this one.
      await expectReason(provider.replace(poolName(), a.name, '1.0.0'), 'NotFound');
    }, timeout);

    it('removes a node (gone from the list), and removing it again resolves', async () => {
      const pool = poolName();
      const a = await provider.add(pool, '1.0.0');
      const b = await provider.add(pool, '1.0.0');
      await provider.remove(pool, a.name);
      expect((await provider.list(pool)).map((n) => n.name)).toEqual([b.name]);
      await provider.remove(pool, a.name);
      await provider.remove(pool, `${pool}-never`);
      await provider.remove(pool, b.name);
      expect(await provider.list(pool)).toEqual([]);
    }, timeout);

    it('rejects an invalid pool name with Invalid', async () => {
      await expectReason(provider.add('Not_A_Pool!', '1.0.0'), 'Invalid');
    }, timeout);
  });
}

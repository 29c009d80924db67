/**
 * The NodeRoutes contract suite: every adapter runs it (`describeNodeRoutesContract('memory',
 * open)`), through the port alone. Excluded from the build. Each test uses route names of its own,
 * so one table serves the whole suite.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { expectReason } from './contract.js';
import type { NodeRoute, NodeRoutes } from './routes.js';

/** NodeRoutesHarness is one route table for the suite. */
export interface NodeRoutesHarness {
  routes: NodeRoutes;
  /** destroy deletes what the suite made. */
  destroy(): Promise<void>;
}

const name = () => `node-${randomBytes(3).toString('hex')}`;
const mine = async (routes: NodeRoutes, names: string[]) => (await routes.list()).filter((r) => names.includes(r.name)).sort((a, b) => a.name.localeCompare(b.name));

/** describeNodeRoutesContract declares the contract tests for one adapter. */
export function describeNodeRoutesContract(adapter: string, open: () => Promise<NodeRoutesHarness>, timeout = 60_000): void {
  describe(`NodeRoutes contract: ${adapter}`, () => {
    let harness: NodeRoutesHarness;
    let routes: NodeRoutes;
    beforeAll(async () => {
      harness = await open();
      routes = harness.routes;
    }, timeout);
    afterAll(async () => harness?.destroy(), timeout);

    it('creates routes, each listed once with its destination and next hop', async () => {
      const [a, b] = [name(), name()].sort();
      const ra: NodeRoute = { name: a, destinationCIDR: '10.244.1.0/24', nextHopIP: '10.1.0.4' };
      const rb: NodeRoute = { name: b, destinationCIDR: '10.244.2.0/24', nextHopIP: '10.1.0.5' };
      await routes.ensure(ra);
      await routes.ensure(rb);
      expect(await mine(routes, [a, b])).toEqual([ra, rb]);
      // Again: nothing changes (idempotent).
      await routes.ensure(ra);
      expect(await mine(routes, [a, b])).toEqual([ra, rb]);
    }, timeout);

    it('replaces the route of a name (a node with a new address)', async () => {
      const a = name();
      await routes.ensure({ name: a, destinationCIDR: '10.244.3.0/24', nextHopIP: '10.1.0.6' });
      await routes.ensure({ name: a, destinationCIDR: '10.244.3.0/24', nextHopIP: '10.1.0.7' });
      expect(await mine(routes, [a])).toEqual([{ name: a, destinationCIDR: '10.244.3.0/24', nextHopIP: '10.1.0.7' }]);
    }, timeout);

    it('removes a route; removing it again, or one never made, resolves', async () => {
      const [a, b] = [name(), name()];
      await routes.ensure({ name: a, destinationCIDR: '10.244.4.0/24', nextHopIP: '10.1.0.8' });
      await routes.ensure({ name: b, destinationCIDR: '10.244.5.0/24', nextHopIP: '10.1.0.9' });
      await routes.remove(a);
      expect((await mine(routes, [a, b])).map((r) => r.name)).toEqual([b]);
      await routes.remove(a);
      await routes.remove(name());
      await routes.remove(b);
      expect(await mine(routes, [a, b])).toEqual([]);
    }, timeout);

    it('writes concurrently: 10 routes at once are all listed', async () => {
      const names = Array.from({ length: 10 }, name).sort();
      await Promise.all(names.map((n, i) => routes.ensure({ name: n, destinationCIDR: `10.244.${10 + i}.0/24`, nextHopIP: `10.1.1.${i + 4}` })));
      expect((await mine(routes, names)).map((r) => r.name)).toEqual(names);
      await Promise.all(names.map((n) => routes.remove(n)));
      expect(await mine(routes, names)).toEqual([]);
    }, timeout);

    it('refuses a malformed name, destination or next hop with Invalid, writing nothing', async () => {
      const a = name();
      await expectReason(routes.ensure({ name: 'Not_A_Node!', destinationCIDR: '10.244.6.0/24', nextHopIP: '10.1.0.4' }), 'Invalid');
      await expectReason(routes.ensure({ name: 'n'.repeat(81), destinationCIDR: '10.244.6.0/24', nextHopIP: '10.1.0.4' }), 'Invalid');
      await expectReason(routes.ensure({ name: a, destinationCIDR: '10.244.6.0', nextHopIP: '10.1.0.4' }), 'Invalid');
      await expectReason(routes.ensure({ name: a, destinationCIDR: '10.244.6.0/24', nextHopIP: 'node-1' }), 'Invalid');
      expect(await mine(routes, [a])).toEqual([]);
    }, timeout);
  });
}

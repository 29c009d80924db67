/**
 * The NodeRoutes port and the route controller. The contract runs on the in-memory table and on
 * the Azure adapter (`@azure/arm-network`) against the local ARM stand-in
 * (test/support/arm-standin.ts), whose recorded requests are checked against the Network REST
 * API; the route controller then reconciles Nodes of a real API server (controller fixture) into
 * the stand-in's route table.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TokenCredential } from '@azure/core-auth';
import { AzureNodeRoutes } from '../../adapters/nodes/routes-azure.js';
import { memoryNodeRoutes } from '../../adapters/nodes/routes-memory.js';
import { describeNodeRoutesContract } from '../../shared/nodes/routes-contract.js';
import type { KubeObject } from '../../shared/api/objects.js';
import { routeController } from '../../shared/controllers/routes/index.js';
import { staleRoutes } from '../../shared/controllers/routes/reconcile.js';
import { NETWORK_API_VERSION, startArmStandin, type ArmStandin } from '../support/arm-standin.js';
import { startControllerFixture, type ControllerFixture } from '../support/controller-fixture.js';

const SUB = '00000000-0000-0000-0000-00000000c0de';
const RG = 'coracle-rg';
const fakeCredential: TokenCredential = { getToken: async () => ({ token: 'stand-in', expiresOnTimestamp: Date.now() + 3_600_000 }) };

describeNodeRoutesContract('memory', async () => ({ routes: memoryNodeRoutes(), destroy: async () => undefined }));

describe('Azure NodeRoutes on the ARM stand-in', () => {
  let arm: ArmStandin;
  const azureRoutes = (table: string) => new AzureNodeRoutes({ credential: fakeCredential, subscriptionId: SUB, resourceGroup: RG, routeTable: table, endpoint: arm.endpoint, ca: arm.ca, pollIntervalMs: 5 });
  beforeAll(async () => {
    arm = await startArmStandin({ routeTables: [`${RG}/contract-pods`, `${RG}/controller-pods`] });
  });
  afterAll(async () => arm?.close());

  describeNodeRoutesContract('azure (ARM stand-in)', async () => ({ routes: azureRoutes('contract-pods'), destroy: async () => undefined }));

  it('made only Network REST calls on the table\'s routes, at the SDK\'s api-version, with the bodies the API defines', () => {
    const table = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/routeTables/contract-pods/routes`;
    const allowed: [string, RegExp][] = [
      ['GET', new RegExp(`^${table}$`)],
      ['GET', new RegExp(`^${table}/[^/]+$`)],
      ['PUT', new RegExp(`^${table}/[^/]+$`)],
      ['DELETE', new RegExp(`^${table}/[^/]+$`)],
      ['GET', new RegExp(`^/subscriptions/${SUB}/providers/Microsoft.Network/locations/[^/]+/operations/[^/]+$`)],
      ['GET', new RegExp(`^/subscriptions/${SUB}/providers/Microsoft.Network/locations/[^/]+/operationResults/[^/]+$`)],
    ];
    expect(arm.requests.length).toBeGreaterThan(20);
    for (const r of arm.requests) {
      expect(allowed.some(([method, path]) => method === r.method && path.test(r.path)) ? '' : `${r.method} ${r.path}`).toBe('');
      expect(r.query.get('api-version')).toBe(NETWORK_API_VERSION);
    }
    // A user-defined route: the pod CIDR to the node's address, as a virtual appliance (the node forwards).
    const put = arm.requests.find((r) => r.method === 'PUT')!;
    expect(put.body).toEqual({ properties: { addressPrefix: '10.244.1.0/24', nextHopType: 'VirtualAppliance', nextHopIpAddress: '10.1.0.4' } });
    // The malformed routes of the contract never reached ARM.
    expect(arm.requests.some((r) => r.method === 'PUT' && /Not_A_Node|n{81}/.test(r.path))).toBe(false);
  });

  describe('the route controller', () => {
    let f: ControllerFixture;
    const CLUSTER_CIDR = '10.244.0.0/16';
    const node = (name: string, podCIDR?: string, ip?: string): KubeObject => ({
      apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR } : {},
      status: ip ? { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } : {},
    });
    beforeAll(async () => {
      f = await startControllerFixture();
    });
    afterAll(async () => f?.close());

    it('writes one route per Node with a pod CIDR and an address, rewrites one whose Node moved, removes a deleted Node\'s, and on resync removes stale routes inside the cluster CIDR only', async () => {
      const routes = azureRoutes('controller-pods');
      const controller = routeController(async () => routes, CLUSTER_CIDR);
      // Left from before a restart: a deleted node's route, a route of another CIDR (not ours), and a node whose address changed.
      await routes.ensure({ name: 'gone', destinationCIDR: '10.244.9.0/24', nextHopIP: '10.1.0.9' });
      await routes.ensure({ name: 'firewall', destinationCIDR: '192.168.0.0/16', nextHopIP: '10.1.0.254' });
      await routes.ensure({ name: 'moved', destinationCIDR: '10.244.3.0/24', nextHopIP: '10.1.0.99' });
      await f.seed(
        ['/api/v1/nodes', node('a', '10.244.1.0/24', '10.1.0.4')], ['/api/v1/nodes', node('b', '10.244.2.0/24', '10.1.0.5')],
        ['/api/v1/nodes', node('moved', '10.244.3.0/24', '10.1.0.6')], ['/api/v1/nodes', node('waiting')],
      );
      const keys = await controller.resync(f.ctx);
      expect(keys.sort()).toEqual(['a', 'b', 'moved', 'waiting']);
      for (const key of keys) await controller.reconcile(key, f.ctx);
      const table = async () => (await routes.list()).sort((x, y) => x.name.localeCompare(y.name));
      expect(await table()).toEqual([
        { name: 'a', destinationCIDR: '10.244.1.0/24', nextHopIP: '10.1.0.4' },
        { name: 'b', destinationCIDR: '10.244.2.0/24', nextHopIP: '10.1.0.5' },
        { name: 'firewall', destinationCIDR: '192.168.0.0/16', nextHopIP: '10.1.0.254' },
        { name: 'moved', destinationCIDR: '10.244.3.0/24', nextHopIP: '10.1.0.6' },
      ]);
      // Level-triggered: reconciling again writes nothing to ARM.
      const before = arm.requests.filter((r) => r.method !== 'GET').length;
      for (const key of keys) await controller.reconcile(key, f.ctx);
      expect(arm.requests.filter((r) => r.method !== 'GET').length).toBe(before);
      // A Node deleted: its route goes.
      expect((await f.harness.json('DELETE', '/api/v1/nodes/b')).status).toBe(200);
      await controller.reconcile('b', f.ctx);
      expect((await table()).map((r) => r.name)).toEqual(['a', 'firewall', 'moved']);
    });

    it('a route that cannot be written: the FailedToCreateRoute warning on the Node and a failed reconcile (the queue retries it)', async () => {
      const controller = routeController(async () => azureRoutes('controller-pods'), CLUSTER_CIDR);
      // A valid Node name longer than a route name may be (80 characters).
      const long = `${'n'.repeat(60)}.${'m'.repeat(30)}`;
      await f.seed(['/api/v1/nodes', node(long, '10.244.4.0/24', '10.1.0.7')]);
      await expect(controller.reconcile(long, f.ctx)).rejects.toMatchObject({ reason: 'Invalid' });
      const events = (await f.get('/api/v1/namespaces/default/events')).items.filter((e: any) => e.involvedObject.name === long);
      expect(events.map((e: any) => [e.involvedObject.kind, e.type, e.reason, e.source.component])).toEqual([['Node', 'Warning', 'FailedToCreateRoute', 'route_controller']]);
      expect(events[0].message).toMatch(new RegExp(`^Could not create route ${long.replace('.', '\\.')} 10\\.244\\.4\\.0/24 for node ${long.replace('.', '\\.')} after [0-9.]+s: route ${long.replace('.', '\\.')}: name "${long.replace('.', '\\.')}" must be a node name of at most 80 characters$`));
      // A table ARM does not have: the reconcile fails (NotFound) and is retried.
      await expect(routeController(async () => azureRoutes('missing-table'), CLUSTER_CIDR).reconcile('a', f.ctx)).rejects.toMatchObject({ reason: 'NotFound' });
    });
  });
});

describe('staleRoutes', () => {
  it('names routes inside the cluster CIDR that no Node wants as they are, never others', () => {
    const nodes: KubeObject[] = [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'a' }, spec: { podCIDR: '10.244.1.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '10.1.0.4' }] } }];
    const table = [
      { name: 'a', destinationCIDR: '10.244.1.0/24', nextHopIP: '10.1.0.4' },
      { name: 'a2', destinationCIDR: '10.244.1.0/24', nextHopIP: '10.1.0.4' },
      { name: 'default', destinationCIDR: '0.0.0.0/0', nextHopIP: '10.1.0.254' },
      { name: 'wide', destinationCIDR: '10.0.0.0/8', nextHopIP: '10.1.0.254' },
    ];
    expect(staleRoutes(table, nodes, '10.244.0.0/16').map((r) => r.name)).toEqual(['a2']);
  });
});

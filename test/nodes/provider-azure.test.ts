/**
 * The NodeProvider contract on the Azure adapter (`@azure/arm-compute`): always against the local
 * ARM stand-in (test/support/arm-standin.ts), whose recorded requests are checked against the
 * Compute REST API; and against a real subscription when AZURE_SUBSCRIPTION_ID,
 * AZURE_RESOURCE_GROUP and CORACLE_TEST_SCALE_SET_PREFIX are set with credentials that
 * DefaultAzureCredential finds (it creates and deletes VMs: it costs money).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TokenCredential } from '@azure/core-auth';
import { AzureNodeProvider, VERSION_TAG } from '../../adapters/nodes/azure.js';
import { describeNodeProviderContract } from '../../shared/nodes/contract.js';
import { COMPUTE_API_VERSION, startArmStandin, type ArmStandin } from '../support/arm-standin.js';
import { readNodePoolsConfig, useAppSettings } from '../../functions/config.js';
import { getNodeProvider, openAzureNodeProvider, useNodeProvider } from '../../functions/runtime.js';

const SUB = '00000000-0000-0000-0000-00000000c0de';
const RG = 'coracle-rg';
const fakeCredential: TokenCredential = { getToken: async () => ({ token: 'stand-in', expiresOnTimestamp: Date.now() + 3_600_000 }) };

/** A Flexible scale set model like infra/modules/nodepool.bicep's (what a new pool is created from). */
const newPool = (pool: string) => ({
  location: 'westeurope',
  sku: { name: 'Standard_B2s', capacity: 0 },
  orchestrationMode: 'Flexible' as const,
  platformFaultDomainCount: 1,
  virtualMachineProfile: { osProfile: { computerNamePrefix: pool, adminUsername: 'coracle' } },
});

describe('Azure NodeProvider on the ARM stand-in', () => {
  let arm: ArmStandin;
  beforeAll(async () => {
    arm = await startArmStandin();
  });
  afterAll(async () => arm?.close());

  describeNodeProviderContract('azure (ARM stand-in)', async () => ({
    provider: new AzureNodeProvider({ credential: fakeCredential, subscriptionId: SUB, resourceGroup: RG, scaleSetPrefix: 'coracle-x-pool-', newPool, endpoint: arm.endpoint, ca: arm.ca, pollIntervalMs: 5 }),
    destroy: async () => undefined,
  }));

  it('is what the app opens from its settings, and what its upgrades get when no host handed one over', async () => {
    const settings = { CORACLE_NODE_POOLS_RESOURCE_GROUP_ID: `/subscriptions/${SUB}/resourceGroups/${RG}`, CORACLE_NODE_POOLS_SCALE_SET_PREFIX: 'coracle-app-pool-', CORACLE_ARM_ENDPOINT: arm.endpoint };
    const provider = await openAzureNodeProvider(readNodePoolsConfig(settings)!, { credential: fakeCredential, ca: arm.ca });
    // The pool's scale set is looked up by the prefix the settings give: none exists yet.
    const before = arm.requests.length;
    expect(await provider.list('web')).toEqual([]);
    expect(arm.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toContain(`GET /subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/coracle-app-pool-web`);
    // Without a handed-over provider the app's own is used; a handed-over one wins.
    useAppSettings(settings);
    try {
      expect(getNodeProvider()).toBeDefined();
      const local = { list: async () => [], add: async () => { throw new Error('x'); }, replace: async () => { throw new Error('x'); }, remove: async () => undefined, close: async () => undefined };
      useNodeProvider(local);
      expect(getNodeProvider()).toBe(local);
      useNodeProvider(undefined);
      useAppSettings({});
      expect(getNodeProvider()).toBeUndefined();
    } finally {
      useNodeProvider(undefined);
      useAppSettings({});
    }
  });

  it('made only Compute REST calls, at the SDK\'s api-version, with the bodies the API defines', () => {
    const rg = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute`;
    const allowed: [string, RegExp][] = [
      ['GET', new RegExp(`^${rg}/virtualMachineScaleSets/[^/]+$`)],
      ['PUT', new RegExp(`^${rg}/virtualMachineScaleSets/[^/]+$`)],
      ['PATCH', new RegExp(`^${rg}/virtualMachineScaleSets/[^/]+$`)],
      ['POST', new RegExp(`^${rg}/virtualMachineScaleSets/[^/]+/delete$`)],
      ['GET', new RegExp(`^${rg}/virtualMachines$`)],
      ['GET', new RegExp(`^${rg}/virtualMachines/[^/]+$`)],
      ['PATCH', new RegExp(`^${rg}/virtualMachines/[^/]+$`)],
      ['POST', new RegExp(`^${rg}/virtualMachines/[^/]+/reimage$`)],
      ['GET', new RegExp(`^/subscriptions/${SUB}/providers/Microsoft.Compute/locations/[^/]+/operations/[^/]+$`)],
      ['GET', new RegExp(`^/subscriptions/${SUB}/providers/Microsoft.Compute/locations/[^/]+/operationResults/[^/]+$`)],
    ];
    expect(arm.requests.length).toBeGreaterThan(20);
    for (const r of arm.requests) {
      expect(allowed.some(([method, path]) => method === r.method && path.test(r.path)) ? '' : `${r.method} ${r.path}`).toBe('');
      expect(r.query.get('api-version')).toBe(COMPUTE_API_VERSION);
    }
    // PUT: a Flexible scale set, model under properties (ARM's wire shape), created empty.
    const put = arm.requests.find((r) => r.method === 'PUT')!;
    expect(put.body).toMatchObject({ location: 'westeurope', sku: { name: 'Standard_B2s', capacity: 0 }, properties: { orchestrationMode: 'Flexible' } });
    expect(put.body.tags[VERSION_TAG]).toBe('1.0.0');
    // Scale out: PATCH sku.capacity with the model's version tag.
    const scale = arm.requests.find((r) => r.method === 'PATCH' && r.path.includes('/virtualMachineScaleSets/') && r.body?.sku?.capacity === 1)!;
    expect(scale.body.tags[VERSION_TAG]).toBeDefined();
    // List by the scale set filter the API documents.
    const list = arm.requests.find((r) => r.path.endsWith('/virtualMachines') && r.method === 'GET')!;
    expect(list.query.get('$filter')).toMatch(/^'virtualMachineScaleSet\/id' eq '\/subscriptions\/.+\/virtualMachineScaleSets\/coracle-x-pool-[a-z0-9]+'$/);
    // Delete instances: VM names of the Flexible scale set.
    const del = arm.requests.find((r) => r.method === 'POST' && r.path.endsWith('/delete'))!;
    expect(del.body).toEqual({ instanceIds: [expect.stringMatching(/^coracle-x-pool-[a-z0-9]+_[0-9a-f]{8}$/)] });
    expect(arm.requests.some((r) => r.method === 'POST' && r.path.endsWith('/reimage'))).toBe(true);
  });
});

const real = process.env.AZURE_SUBSCRIPTION_ID && process.env.AZURE_RESOURCE_GROUP && process.env.CORACLE_TEST_SCALE_SET_PREFIX;
if (real) {
  describeNodeProviderContract('azure (real subscription)', async () => {
    const identity = '@azure/identity';
    const { DefaultAzureCredential } = (await import(identity)) as { DefaultAzureCredential: new () => TokenCredential };
    const { ComputeManagementClient } = await import('@azure/arm-compute');
    const credential = new DefaultAzureCredential();
    const [subscriptionId, resourceGroup, scaleSetPrefix] = [process.env.AZURE_SUBSCRIPTION_ID!, process.env.AZURE_RESOURCE_GROUP!, process.env.CORACLE_TEST_SCALE_SET_PREFIX!];
    // New test pools copy the model of the deployment's pool1 (infra/main.bicepparam).
    const model = await new ComputeManagementClient(credential, subscriptionId).virtualMachineScaleSets.get(resourceGroup, `${scaleSetPrefix}pool1`);
    const provider = new AzureNodeProvider({
      credential, subscriptionId, resourceGroup, scaleSetPrefix,
      newPool: (pool) => ({
        location: model.location, sku: model.sku, identity: model.identity, orchestrationMode: model.orchestrationMode, platformFaultDomainCount: model.platformFaultDomainCount,
        virtualMachineProfile: { ...model.virtualMachineProfile, osProfile: { ...model.virtualMachineProfile?.osProfile, computerNamePrefix: pool } },
      }),
    });
    return { provider, destroy: () => provider.close() };
  }, { timeoutMs: 30 * 60_000 });
} else {
  it.skip('NodeProvider contract: azure (real subscription) — SKIPPED: set AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and CORACLE_TEST_SCALE_SET_PREFIX (and Azure credentials) to run it', () => undefined);
}

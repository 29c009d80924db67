/**
 * The NodeProvider on Azure: each pool is a VM scale set in Flexible orchestration
 * (infra/modules/nodepool.bicep, named `<prefix><pool>`), each node one of its VMs, named by its
 * host name (`osProfile.computerName`, which the agent registers as). Through `@azure/arm-compute`:
 * - add: create the scale set from `newPool(pool)` if it does not exist, update the model's
 *   `coracle-version` tag when it differs, scale out by one (sku.capacity), then tag the new VM
 *   with the version;
 * - replace: update the model, reimage the VM (a fresh OS disk; cloud-init runs again and fetches
 *   the agent package), tag it with the version;
 * - remove: delete the instance from the scale set (capacity drops by one);
 * - list: the VMs whose `virtualMachineScaleSet.id` is the pool's.
 * Adds to one pool are serialized here (each reads and raises the capacity).
 */
import { ComputeManagementClient, type VirtualMachine, type VirtualMachineScaleSet } from '@azure/arm-compute';
import type { TokenCredential } from '@azure/core-auth';
import { armClientOptions, armStatusOf, classifyArmError, type ArmEndpointOptions } from './arm.js';
import { checkPoolName, NodeProviderError, type NodeProvider, type NodeState, type ProvidedNode } from '../../shared/nodes/provider.js';

/** VERSION_TAG is the tag holding a VM's (and a model's) agent version. */
export const VERSION_TAG = 'coracle-version';

/** AzureNodeProviderOptions say where the pools are. */
export interface AzureNodeProviderOptions extends ArmEndpointOptions {
  credential: TokenCredential;
  subscriptionId: string;
  resourceGroup: string;
  /** Scale set name of a pool: `${scaleSetPrefix}${pool}` (Bicep: `<stem>-pool-`). */
  scaleSetPrefix: string;
  /** The scale set to create for a pool that has none (omitted: adding to a missing pool is NotFound). */
  newPool?: (pool: string) => VirtualMachineScaleSet;
  /** Poll interval of long-running operations (default: as ARM's Retry-After says). */
  pollIntervalMs?: number;
}

/** nodeNameOf is the Node name a VM's agent registers: its host name, lowercased as the agent lowercases it. */
function nodeNameOf(vm: VirtualMachine): string {
  return (vm.osProfile?.computerName ?? vm.name ?? '').toLowerCase();
}

function stateOf(vm: VirtualMachine): NodeState {
  switch (vm.provisioningState) {
    case 'Creating': return 'creating';
    case 'Updating': return 'rebuilding';
    case 'Deleting': return 'deleting';
    case 'Failed': return 'failed';
    default: return 'running';
  }
}

/** AzureNodeProvider runs pools as Flexible VM scale sets; see the file's comment. */
export class AzureNodeProvider implements NodeProvider {
  private readonly client: ComputeManagementClient;
  private readonly poolLocks = new Map<string, Promise<unknown>>();

  constructor(private readonly o: AzureNodeProviderOptions) {
    this.client = new ComputeManagementClient(o.credential, o.subscriptionId, armClientOptions(o) as ConstructorParameters<typeof ComputeManagementClient>[2]);
  }

  private get lro() {
    return this.o.pollIntervalMs !== undefined ? { updateIntervalInMs: this.o.pollIntervalMs } : {};
  }

  private async scaleSet(pool: string): Promise<VirtualMachineScaleSet | undefined> {
    try {
      return await this.client.virtualMachineScaleSets.get(this.o.resourceGroup, this.o.scaleSetPrefix + pool);
    } catch (err) {
      if (armStatusOf(err) === 404) return undefined;
      throw classifyArmError(err, `get scale set of pool ${pool}`);
    }
  }

  private async vms(set: VirtualMachineScaleSet): Promise<VirtualMachine[]> {
    const vms: VirtualMachine[] = [];
    for await (const vm of this.client.virtualMachines.list(this.o.resourceGroup, { filter: `'virtualMachineScaleSet/id' eq '${set.id}'` })) vms.push(vm);
    return vms;
  }

  private describe(pool: string, set: VirtualMachineScaleSet, vm: VirtualMachine): ProvidedNode {
    return {
      name: nodeNameOf(vm),
      pool,
      version: vm.tags?.[VERSION_TAG] ?? set.tags?.[VERSION_TAG] ?? '',
      state: stateOf(vm),
      providerId: vm.id ?? '',
    };
  }

  async list(pool: string): Promise<ProvidedNode[]> {
    const set = await this.scaleSet(pool);
    if (!set) return [];
    try {
      return (await this.vms(set)).map((vm) => this.describe(pool, set, vm));
    } catch (err) {
      throw classifyArmError(err, `list nodes of pool ${pool}`);
    }
  }

  async add(pool: string, version: string): Promise<ProvidedNode> {
    checkPoolName(pool);
    const previous = this.poolLocks.get(pool) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.addNow(pool, version));
    this.poolLocks.set(pool, next);
    return next;
  }

  private async addNow(pool: string, version: string): Promise<ProvidedNode> {
    const name = this.o.scaleSetPrefix + pool;
    let set = await this.scaleSet(pool);
    try {
      if (!set) {
        if (!this.o.newPool) throw new NodeProviderError('NotFound', `pool ${pool} has no scale set ${name}`);
        const model = this.o.newPool(pool);
        set = await this.client.virtualMachineScaleSets.createOrUpdate(this.o.resourceGroup, name,
          { ...model, sku: { ...model.sku, capacity: 0 }, tags: { ...model.tags, [VERSION_TAG]: version } }, this.lro);
      }
      const before = new Set((await this.vms(set)).map((vm) => vm.id));
      const capacity = (set.sku?.capacity ?? 0) + 1;
      // One PATCH updates the model's version and scales out: the new VM is built from that model.
      set = await this.client.virtualMachineScaleSets.update(this.o.resourceGroup, name,
        { sku: { ...set.sku, capacity }, tags: { ...set.tags, [VERSION_TAG]: version } }, this.lro);
      const created = (await this.vms(set)).find((vm) => !before.has(vm.id));
      if (!created?.name) throw new NodeProviderError('Unavailable', `scale set ${name} reached capacity ${capacity} but no new VM is listed`);
      const tagged = await this.client.virtualMachines.update(this.o.resourceGroup, created.name, { tags: { ...created.tags, [VERSION_TAG]: version } }, this.lro);
      return this.describe(pool, set, tagged);
    } catch (err) {
      throw classifyArmError(err, `add a node to pool ${pool}`);
    }
  }

  private async find(pool: string, node: string): Promise<{ set: VirtualMachineScaleSet; vm: VirtualMachine } | undefined> {
    const set = await this.scaleSet(pool);
    if (!set) return undefined;
    const vm = (await this.vms(set)).find((v) => nodeNameOf(v) === node);
    return vm ? { set, vm } : undefined;
  }

  async replace(pool: string, node: string, version: string): Promise<ProvidedNode> {
    const found = await this.find(pool, node);
    if (!found?.vm.name) throw new NodeProviderError('NotFound', `node ${node} is not in pool ${pool}`);
    const { vm } = found;
    try {
      let set = found.set;
      if (set.tags?.[VERSION_TAG] !== version) {
        set = await this.client.virtualMachineScaleSets.update(this.o.resourceGroup, set.name!, { tags: { ...set.tags, [VERSION_TAG]: version } }, this.lro);
      }
      await this.client.virtualMachines.reimage(this.o.resourceGroup, vm.name!, this.lro);
      const tagged = await this.client.virtualMachines.update(this.o.resourceGroup, vm.name!, { tags: { ...vm.tags, [VERSION_TAG]: version } }, this.lro);
      return this.describe(pool, set, tagged);
    } catch (err) {
      throw classifyArmError(err, `replace node ${node} of pool ${pool}`);
    }
  }

  async remove(pool: string, node: string): Promise<void> {
    const found = await this.find(pool, node);
    if (!found?.vm.name) return;
    try {
      await this.client.virtualMachineScaleSets.deleteInstances(this.o.resourceGroup, found.set.name!, { instanceIds: [found.vm.name] }, this.lro);
    } catch (err) {
      if (armStatusOf(err) !== 404) throw classifyArmError(err, `remove node ${node} of pool ${pool}`);
    }
  }

  async close(): Promise<void> {
    // The ARM client holds no connection of its own to close.
  }
}

/**
 * Pod networking on a VM node: the node's pods join a Docker bridge network of their own whose
 * subnet is the Node's `spec.podCIDR` (gateway: its first address), so a pod's address is unique
 * in the cluster and the route table's `podCIDR → node` entries reach it. Docker's own
 * masquerading is off on that bridge (it would hide pod addresses from pods on other VMs); the
 * agent masquerades only traffic from the pod CIDR to destinations outside the cluster CIDR, in a
 * nat chain of its own (`CRN-<6 hex>-MASQ`, named like the node proxy's `CRC-<6 hex>-` chains but
 * never one of them: the proxy deletes every chain of its prefix it did not declare), and accepts
 * forwarded traffic from the cluster CIDR into the pod CIDR (`CRN-<6 hex>-FWD`): Docker's FORWARD
 * rules let into a bridge only replies and published ports, so other VMs' pods would be dropped.
 *
 * Local nodes (`coracle up`) share one engine and its default bridge and use none of this.
 * The decisions are pure functions; PodNetwork applies them to an engine and the host's iptables.
 */
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { numberToIp, parseIPv4CIDR } from '../../../shared/apiserver/allocator.js';
import { ensureJump, removeChains, restoreTables } from '../../proxy/iptables.js';

/** POD_NETWORK_NAME is the Docker network a VM node's pod sandboxes join. */
export const POD_NETWORK_NAME = 'coracle-pods';
/** NO_MASQUERADE is the bridge driver option that turns Docker's masquerading off on a network. */
export const NO_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';

/** PodNetworkSpec is the network a node's pods need. */
export interface PodNetworkSpec {
  name: string;
  subnet: string;
  gateway: string;
}

/** ExistingNetwork is what matters of a network the engine already has. */
export interface ExistingNetwork {
  subnets: string[];
  options: Record<string, string>;
}

/** podNetworkSpec is the bridge for `podCIDR` (IPv4): the canonical subnet and its first address as gateway. Throws on a malformed CIDR. */
export function podNetworkSpec(podCIDR: string): PodNetworkSpec {
  const parsed = parseIPv4CIDR(podCIDR);
  if (!parsed || parsed.bits > 30) throw new Error(`pod CIDR ${podCIDR}: expected an IPv4 CIDR of at most /30`);
  return { name: POD_NETWORK_NAME, subnet: `${numberToIp(parsed.network)}/${parsed.bits}`, gateway: numberToIp(parsed.network + 1) };
}

/** podNetworkAction says what to do with the engine's network of that name: create it, recreate it (other subnet, or Docker masquerades on it) or keep it. */
export function podNetworkAction(existing: Readonly<ExistingNetwork> | undefined, want: Readonly<PodNetworkSpec>): 'create' | 'recreate' | 'keep' {
  if (!existing) return 'create';
  const sameSubnet = existing.subnets.length === 1 && existing.subnets[0] === want.subnet;
  return sameSubnet && existing.options[NO_MASQUERADE] === 'false' ? 'keep' : 'recreate';
}

/** podNetworkCreateOptions are the engine's create options for `spec`. */
export function podNetworkCreateOptions(spec: Readonly<PodNetworkSpec>): Docker.NetworkCreateOptions {
  return {
    Name: spec.name, Driver: 'bridge', CheckDuplicate: true,
    IPAM: { Driver: 'default', Config: [{ Subnet: spec.subnet, Gateway: spec.gateway }] },
    Options: { [NO_MASQUERADE]: 'false' },
    Labels: { 'io.coracle.pod-cidr': spec.subnet },
  };
}

/** PodChains are a cluster's pod network chains: nat (masquerade) and filter (forward). */
export interface PodChains {
  masquerade: string;
  forward: string;
}

/** podChains are the pod network chains of a cluster (stable identity: the API server URL), `CRN-<6 hex>-MASQ` and `CRN-<6 hex>-FWD`. */
export function podChains(clusterId: string): PodChains {
  const prefix = `CRN-${createHash('sha256').update(clusterId).digest('hex').slice(0, 6)}-`;
  return { masquerade: `${prefix}MASQ`, forward: `${prefix}FWD` };
}

/** podChainJumps are the built-in chains' jumps into `chains`: [table, built-in chain, chain]. */
export function podChainJumps(chains: Readonly<PodChains>): Array<[string, string, string]> {
  return [['nat', 'POSTROUTING', chains.masquerade], ['filter', 'FORWARD', chains.forward]];
}

/**
 * podChainRules is the `iptables-restore --noflush` text of `chains`: traffic from `podCIDR` to
 * outside `clusterCIDR` leaves with the node's address; traffic from `clusterCIDR` may be
 * forwarded into `podCIDR`.
 */
export function podChainRules(chains: Readonly<PodChains>, podCIDR: string, clusterCIDR: string): string {
  const pods = podNetworkSpec(podCIDR).subnet;
  const cluster = parseIPv4CIDR(clusterCIDR);
  if (!cluster) throw new Error(`cluster CIDR ${clusterCIDR}: expected an IPv4 CIDR such as 10.244.0.0/16`);
  const clusterText = `${numberToIp(cluster.network)}/${cluster.bits}`;
  return [
    '*nat',
    `:${chains.masquerade} - [0:0]`,
    `-A ${chains.masquerade} -s ${pods} ! -d ${clusterText} -m comment --comment "pods leaving the cluster CIDR" -j MASQUERADE`,
    'COMMIT',
    '*filter',
    `:${chains.forward} - [0:0]`,
    `-A ${chains.forward} -s ${clusterText} -d ${pods} -m comment --comment "cluster traffic into the pod CIDR" -j ACCEPT`,
    'COMMIT',
    '',
  ].join('\n');
}

/** PodNetworkOptions configure a VM node's pod network. */
export interface PodNetworkOptions {
  /** The Node's `spec.podCIDR`; undefined until the control plane assigned one. */
  podCIDR(): Promise<string | undefined>;
  /** The cluster CIDR (all nodes' pod CIDRs): traffic to it keeps the pod's address. */
  clusterCIDR: string;
  /** The cluster's pod chains (podChains). */
  chains: PodChains;
  /** Write the masquerade and forward rules (false: without root). */
  iptables: boolean;
}

/**
 * PodNetwork makes sure, once per runtime, that the pod network and the masquerade rule exist,
 * and names the network sandboxes join. A failure (no pod CIDR yet, an engine error) is thrown to
 * the sandbox's start, which the pod worker retries; the next call tries again.
 */
export class PodNetwork {
  private ready: Promise<string> | undefined;

  constructor(private readonly docker: Docker, private readonly o: PodNetworkOptions) {}

  /** network returns the name of the network the node's sandboxes join, creating it on first use. */
  network(): Promise<string> {
    this.ready ??= this.setUp().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async setUp(): Promise<string> {
    const podCIDR = await this.o.podCIDR();
    if (!podCIDR) throw new Error('network is not ready: the node has no spec.podCIDR yet');
    const spec = podNetworkSpec(podCIDR);
    const existing = await this.docker.getNetwork(spec.name).inspect().then(
      (n: { IPAM?: { Config?: Array<{ Subnet?: string }> }; Options?: Record<string, string> }) => ({
        subnets: (n.IPAM?.Config ?? []).flatMap((c) => (c.Subnet ? [c.Subnet] : [])), options: n.Options ?? {},
      }),
      (err: { statusCode?: number }) => {
        if (err.statusCode === 404) return undefined;
        throw err;
      },
    );
    const action = podNetworkAction(existing, spec);
    if (action === 'recreate') await this.docker.getNetwork(spec.name).remove();
    if (action !== 'keep') await this.docker.createNetwork(podNetworkCreateOptions(spec));
    if (this.o.iptables) {
      await restoreTables(podChainRules(this.o.chains, spec.subnet, this.o.clusterCIDR));
      for (const [table, builtin, chain] of podChainJumps(this.o.chains)) await ensureJump(table, builtin, chain);
    }
    return spec.name;
  }

  /** close removes the pod chains (the network stays: running pods keep their addresses). Idempotent. */
  async close(): Promise<void> {
    if (this.o.iptables) await removeChains(podChainJumps(this.o.chains));
  }
}

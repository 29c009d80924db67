/**
 * Pod CIDRs for nodes: the cluster CIDR (kube-controller-manager's `--cluster-cidr`, e.g.
 * 10.244.0.0/16) cut into subnets of `--node-cidr-mask-size` bits (24: 256 subnets of 254 pod
 * addresses), each node holding one. Allocations are keys of the store written with
 * create-if-absent (`/registry/podcidrs/10.244.3.0-24`, owner the Node), through the same range
 * allocator as service addresses (shared/apiserver/allocator.ts), so any number of controller
 * instances allocating at once never hand one subnet out twice. Upstream's range allocator keeps
 * a bitmap in one process instead (one kube-controller-manager leads at a time).
 */
import type { Store } from '../../store/store.js';
import {
  allocateNext, allocateValue, AllocationError, numberToIp, parseIPv4CIDR, releaseValue, repairRange, valuesHeldBy,
  type Owner, type Range, type RepairReport,
} from '../../apiserver/allocator.js';

/** POD_CIDR_PREFIX is where pod CIDR allocations live in the store. */
export const POD_CIDR_PREFIX = '/registry/podcidrs/';

/** DEFAULT_NODE_CIDR_MASK_SIZE is kube-controller-manager's default for IPv4. */
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

/** NO_CIDRS_LEFT is upstream's cidrset error (ErrCIDRRangeNoCIDRsRemaining). */
export const NO_CIDRS_LEFT = 'CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range';

/** keyName renders a CIDR as a store key segment (`10.244.3.0/24` → `10.244.3.0-24`: keys hold no `/` of their own). */
const keyName = (cidr: string): string => cidr.replace('/', '-');
const cidrOf = (name: string): string => name.replace(/-(\d+)$/, '/$1');

/**
 * podCIDRRange cuts `clusterCIDR` (IPv4) into subnets of `maskSize` bits: value n is the n-th
 * subnet. Throws when the CIDR is malformed or the mask is not longer than the cluster's prefix.
 */
export function podCIDRRange(clusterCIDR: string, maskSize = DEFAULT_NODE_CIDR_MASK_SIZE): Range {
  const parsed = parseIPv4CIDR(clusterCIDR);
  if (!parsed) throw new Error(`cluster CIDR ${clusterCIDR}: expected an IPv4 CIDR such as 10.244.0.0/16`);
  if (!(Number.isInteger(maskSize) && maskSize > parsed.bits && maskSize <= 30)) {
    throw new Error(`node CIDR mask size ${maskSize}: must be longer than the cluster CIDR's prefix (/${parsed.bits}) and at most 30`);
  }
  const { network, bits } = parsed;
  const subnet = 2 ** (32 - maskSize);
  const count = 2 ** (maskSize - bits);
  return {
    text: `${numberToIp(network)}/${bits}`, first: 0, last: count - 1, staticBand: 0,
    prefix: POD_CIDR_PREFIX, kind: 'PodCIDR', noun: 'CIDR',
    render: (n) => keyName(`${numberToIp(network + n * subnet)}/${maskSize}`),
    parse: (s) => {
      const cidr = parseIPv4CIDR(cidrOf(s));
      if (!cidr || cidr.bits !== maskSize || cidrOf(s) !== `${numberToIp(cidr.network)}/${maskSize}`) return undefined;
      const offset = cidr.network - network;
      return offset >= 0 && offset % subnet === 0 && offset / subnet < count ? offset / subnet : undefined;
    },
  };
}

/**
 * PodCIDRAllocator hands out and takes back nodes' pod CIDRs. Every method is idempotent and
 * safe to call concurrently from any number of processes.
 */
export interface PodCIDRAllocator {
  /** The cluster CIDR, as shown in messages. */
  readonly clusterCIDR: string;
  /** allocate returns a CIDR for `node`: one it already holds (a retry), else a free one; AllocationError `Full` when none is left. */
  allocate(node: string): Promise<string>;
  /** occupy records that `node` holds `cidr` (repair); AllocationError `Allocated` (another node's) or `NotInRange`. */
  occupy(node: string, cidr: string): Promise<void>;
  /** release frees every CIDR `node` holds but `keep`. */
  release(node: string, keep?: string): Promise<void>;
  /** repair allocates what nodes hold without an allocation and releases allocations older than a minute that no node holds. */
  repair(held: ReadonlyArray<{ node: string; cidr: string }>, now?: Date): Promise<RepairReport>;
}

const ownerOfNode = (name: string): Owner => ({ group: '', resource: 'nodes', namespace: '', name });

/** storePodCIDRAllocator keeps allocations of `range` (podCIDRRange) in `store`. */
export function storePodCIDRAllocator(store: Store, range: Range): PodCIDRAllocator {
  return {
    clusterCIDR: range.text,
    async allocate(node) {
      const held = await valuesHeldBy(store, range, ownerOfNode(node));
      if (held.length > 0) return cidrOf(held[0]);
      try {
        return cidrOf(await allocateNext(store, range, ownerOfNode(node)));
      } catch (err) {
        if (err instanceof AllocationError && err.reason === 'Full') throw new AllocationError('Full', NO_CIDRS_LEFT);
        throw err;
      }
    },
    occupy: (node, cidr) => allocateValue(store, range, keyName(cidr), ownerOfNode(node)),
    async release(node, keep) {
      for (const value of await valuesHeldBy(store, range, ownerOfNode(node))) {
        if (keep === undefined || value !== keyName(keep)) await releaseValue(store, range, value, ownerOfNode(node));
      }
    },
    repair: (held, now) => repairRange(store, range, held.map(({ node, cidr }) => ({ value: keyName(cidr), owner: ownerOfNode(node) })), now),
  };
}

/**
 * Range allocators over the Store: service cluster IPs from a CIDR and node ports from a port
 * range. Each allocated value is one key (`/registry/ipaddresses/<ip>`, `/registry/servicenodeports/
 * <port>`) written with the store's create-if-absent, so two API server instances (or two
 * concurrent requests) can never both take a value: the loser gets AlreadyExists and tries
 * another. This is Kubernetes' IPAddress-object allocator (MultiCIDRServiceAllocator, GA in 1.33)
 * applied to node ports too, instead of the bitmap in one `/registry/ranges/...` key, which would
 * make every create contend on one compare-and-swap.
 */
import { isStoreError, type Store } from '../store/store.js';

/** IPV4_CIDR matches `a.b.c.d/n`. */
const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** ipToNumber reads a dotted IPv4 address; undefined when it is not one. */
export function ipToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** numberToIp renders a 32-bit number as a dotted IPv4 address. */
export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Range is an inclusive span of allocatable values with its display text and store prefix. */
export interface Range {
  /** As shown in errors: `10.96.0.0/12`, `30000-32767`. */
  text: string;
  first: number;
  last: number;
  /** Values below this offset are the "static band": dynamic allocation prefers the rest (upstream's KEP-3070). */
  staticBand: number;
  prefix: string;
  /** The kind of the allocation objects kept under `prefix` (`IPAddress`, `ServiceNodePort`, `PodCIDR`). */
  kind: string;
  /** What a value is called in errors (`IP`, `port`, `CIDR`). */
  noun: string;
  render: (n: number) => string;
  parse: (s: string) => number | undefined;
}

/** IP_PREFIX and NODE_PORT_PREFIX are where allocations live in the store. */
export const IP_PREFIX = '/registry/ipaddresses/';
export const NODE_PORT_PREFIX = '/registry/servicenodeports/';

/** parseIPv4CIDR reads `a.b.c.d/n` into its network address (host bits cleared) and prefix length; undefined when it is not one. */
export function parseIPv4CIDR(cidr: string): { network: number; bits: number } | undefined {
  const m = IPV4_CIDR.exec(cidr.trim());
  const base = m ? ipToNumber(`${m[1]}.${m[2]}.${m[3]}.${m[4]}`) : undefined;
  const bits = m ? Number(m[5]) : NaN;
  if (base === undefined || !(bits >= 0 && bits <= 32)) return undefined;
  const size = 2 ** (32 - bits);
  return { network: base - (base % size), bits };
}

/** serviceCIDRRange parses a service CIDR (IPv4); the network and broadcast addresses are never handed out. Throws on a malformed CIDR. */
export function serviceCIDRRange(cidr: string): Range {
  const parsed = parseIPv4CIDR(cidr);
  const bits = parsed?.bits ?? NaN;
  if (!parsed || !(bits >= 1 && bits <= 30)) throw new Error(`service CIDR ${cidr}: expected an IPv4 CIDR such as 10.96.0.0/12, with a prefix of 1 to 30 bits`);
  const size = 2 ** (32 - bits);
  const network = parsed.network;
  const usable = size - 2;
  return {
    text: `${numberToIp(network)}/${bits}`, first: network + 1, last: network + size - 2,
    staticBand: Math.min(Math.max(16, Math.floor(usable / 16)), 256), prefix: IP_PREFIX, kind: 'IPAddress', noun: 'IP', render: numberToIp, parse: ipToNumber,
  };
}

/** nodePortRange parses `30000-32767`. Throws on a malformed range. */
export function nodePortRange(text = '30000-32767'): Range {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const first = m ? Number(m[1]) : NaN;
  const last = m ? Number(m[2]) : NaN;
  if (!(first >= 1 && last <= 65535 && first <= last)) throw new Error(`node port range ${text}: expected FIRST-LAST within 1-65535`);
  const parse = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);
  return { text: `${first}-${last}`, first, last, staticBand: Math.min(Math.max(16, Math.floor((last - first + 1) / 16)), 128), prefix: NODE_PORT_PREFIX, kind: 'ServiceNodePort', noun: 'port', render: String, parse };
}

/** AllocationError says why a value could not be had; `reason` is what the caller maps to a Status. */
export class AllocationError extends Error {
  constructor(readonly reason: 'Allocated' | 'NotInRange' | 'Full', message: string) {
    super(message);
    this.name = 'AllocationError';
  }
}

/** Owner names the object an allocation belongs to (upstream IPAddress's spec.parentRef). */
export interface Owner {
  group: string;
  resource: string;
  namespace: string;
  name: string;
}

function allocationObject(range: Range, value: string, owner: Owner, now: Date): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: range.kind,
    metadata: { name: value, creationTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z'), labels: { 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' } },
    spec: { parentRef: owner },
  };
}

/** ownerOf reads an allocation's owner. */
export function ownerOf(value: Readonly<Record<string, unknown>>): Owner | undefined {
  const spec = value.spec as { parentRef?: Owner } | undefined;
  return spec?.parentRef;
}

/** sameOwner compares two owners by namespace and name (group and resource are always core services here). */
export function sameOwner(a: Owner | undefined, b: Owner): boolean {
  return a !== undefined && a.namespace === b.namespace && a.name === b.name;
}

/**
 * allocateValue takes the given value of `range` for `owner`: NotInRange outside the range,
 * Allocated when another owner holds it (an allocation already held by `owner` is kept: retries
 * are idempotent). `dryRun` only checks.
 */
export async function allocateValue(store: Store, range: Range, value: string, owner: Owner, options: { dryRun?: boolean; now?: Date } = {}): Promise<void> {
  const n = range.parse(value);
  if (n === undefined || n < range.first || n > range.last) {
    throw new AllocationError('NotInRange', `provided ${range.noun} is not in the valid range. The range of valid ${range.noun}s is ${range.text}`);
  }
  const key = range.prefix + range.render(n);
  const held = await store.get(key);
  if (held && sameOwner(ownerOf(held.value), owner)) return;
  if (held) throw new AllocationError('Allocated', `provided ${range.noun} is already allocated`);
  if (options.dryRun) return;
  try {
    await store.create(key, allocationObject(range, range.render(n), owner, options.now ?? new Date()));
  } catch (err) {
    if (isStoreError(err, 'AlreadyExists')) throw new AllocationError('Allocated', `provided ${range.noun} is already allocated`);
    throw err;
  }
}

/** takenValues lists the values of `range` that are allocated now. */
export async function takenValues(store: Store, range: Range): Promise<Set<number>> {
  const taken = new Set<number>();
  const page = await store.list(range.prefix);
  for (const kv of page.items) {
    const n = range.parse(kv.key.slice(range.prefix.length));
    if (n !== undefined) taken.add(n);
  }
  return taken;
}

function pickFree(range: Range, taken: ReadonlySet<number>, skip: ReadonlySet<number>): number | undefined {
  const free = (n: number) => !taken.has(n) && !skip.has(n);
  // Upper band first (dynamic), then the static band: a random start, then a walk, as upstream.
  const bands: Array<[number, number]> = [[range.first + range.staticBand, range.last], [range.first, Math.min(range.last, range.first + range.staticBand - 1)]];
  for (const [lo, hi] of bands) {
    if (lo > hi) continue;
    const span = hi - lo + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const n = lo + ((start + i) % span);
      if (free(n)) return n;
    }
  }
  return undefined;
}

/** MAX_RACES bounds how often a dynamic allocation may lose a value to a concurrent one before it re-reads. */
const MAX_RACES = 16;

/** allocateNext takes a free value of `range` for `owner` (random, upper band first); Full when none is left. `dryRun` picks without taking. */
export async function allocateNext(store: Store, range: Range, owner: Owner, options: { dryRun?: boolean; now?: Date } = {}): Promise<string> {
  for (let round = 0; round < 4; round++) {
    const taken = await takenValues(store, range);
    const lost = new Set<number>();
    for (let race = 0; race < MAX_RACES; race++) {
      const n = pickFree(range, taken, lost);
      if (n === undefined) break;
      if (options.dryRun) return range.render(n);
      try {
        await store.create(range.prefix + range.render(n), allocationObject(range, range.render(n), owner, options.now ?? new Date()));
        return range.render(n);
      } catch (err) {
        if (!isStoreError(err, 'AlreadyExists')) throw err;
        lost.add(n);
      }
    }
  }
  throw new AllocationError('Full', `range is full`);
}

/** releaseValue frees `value` if `owner` holds it (idempotent; another owner's allocation is left alone). */
export async function releaseValue(store: Store, range: Range, value: string, owner: Owner): Promise<void> {
  const key = range.prefix + value;
  const held = await store.get(key);
  if (!held || !sameOwner(ownerOf(held.value), owner)) return;
  try {
    await store.delete(key, held.modRevision);
  } catch (err) {
    if (!isStoreError(err, 'NotFound') && !isStoreError(err, 'Conflict')) throw err;
  }
}

/** valuesHeldBy lists the values of `range` that `owner` holds now (normally one; more after a crash between an allocation and its object's write). */
export async function valuesHeldBy(store: Store, range: Range, owner: Owner): Promise<string[]> {
  const page = await store.list(range.prefix);
  return page.items.filter((kv) => sameOwner(ownerOf(kv.value), owner)).map((kv) => kv.key.slice(range.prefix.length));
}

/** REPAIR_GRACE_MS: an allocation younger than this may belong to a write still in flight, so repair leaves it. */
export const REPAIR_GRACE_MS = 60_000;

/** RepairReport says what a repair pass did, for logs and tests. */
export interface RepairReport {
  allocated: string[];
  released: string[];
  conflicts: string[];
}

/**
 * repairRange reconciles one range's allocations with what the objects hold (upstream's repair
 * loops): `held` lists each value an object holds, with that object as owner. A held value with
 * no allocation gets one (data from before the allocator, or a crash between the two writes); a
 * value held by one owner but allocated to another is a conflict, reported and left alone; an
 * allocation older than REPAIR_GRACE_MS that no object holds is released.
 */
export async function repairRange(store: Store, range: Range, held: ReadonlyArray<{ value: string; owner: Owner }>, now = new Date()): Promise<RepairReport> {
  const report: RepairReport = { allocated: [], released: [], conflicts: [] };
  const holders = new Set<string>();
  for (const { value, owner } of held) {
    holders.add(value);
    try {
      const before = await store.get(range.prefix + value);
      await allocateValue(store, range, value, owner, { now });
      if (!before) report.allocated.push(value);
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      report.conflicts.push(`${value} (${owner.namespace ? `${owner.namespace}/` : ''}${owner.name}): ${err.message}`);
    }
  }
  for (const kv of (await store.list(range.prefix)).items) {
    const value = kv.key.slice(range.prefix.length);
    // Held by its object, or by another that also claims it (a conflict, reported above): keep.
    if (holders.has(value)) continue;
    const meta = kv.value.metadata as { creationTimestamp?: string } | undefined;
    const created = Date.parse(String(meta?.creationTimestamp ?? ''));
    if (Number.isFinite(created) && now.getTime() - created < REPAIR_GRACE_MS) continue;
    try {
      await store.delete(kv.key, kv.modRevision);
      report.released.push(value);
    } catch (err) {
      if (!isStoreError(err, 'NotFound') && !isStoreError(err, 'Conflict')) throw err;
    }
  }
  return report;
}

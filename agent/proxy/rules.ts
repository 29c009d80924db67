/**
 * The node proxy's rules, as pure functions: Services and EndpointSlices in, an `iptables-restore`
 * text for the nat and filter tables out (kube-proxy's iptables mode, reduced). Every chain of one
 * cluster starts with its prefix (`CRC-<id>-`), so clusters that share a host's network namespace
 * (several local clusters on one machine) never touch each other's rules.
 *
 * nat:    PREROUTING, OUTPUT → <p>SVC: `-d <clusterIP> -p <proto> --dport <port>` → <p>S<hash>;
 *         local destinations (not 127/8) → <p>NP: `--dport <nodePort>` → the same <p>S<hash>;
 *         <p>S<hash>: one rule per endpoint, `-m statistic --mode random --probability 1/(n-i)`
 *         → <p>E<hash>: mark 0x4000, DNAT to `ip:port`.
 *         POSTROUTING → <p>POST: marked → MASQUERADE (so replies come back through this host,
 *         also between pods on one bridge).
 * filter: FORWARD → <p>FWD: marked → ACCEPT (Docker's FORWARD policy drops other traffic).
 * Endpoints used: the ready ones; when none is ready, the serving terminating ones (upstream's
 * ProxyTerminatingEndpoints). No endpoint: no rule (the connection times out instead of kube-
 * proxy's REJECT; see README).
 */
import { createHash } from 'node:crypto';

type Loose = Record<string, any>;

/** MASQ_MARK is the packet mark for "DNATed by the proxy: masquerade and accept" (kube-proxy's). */
export const MASQ_MARK = '0x4000/0x4000';

/** chainPrefix is a cluster's chain prefix, `CRC-<6 hex>-`, from a stable cluster identity (the API server URL). */
export function chainPrefix(clusterId: string): string {
  return `CRC-${createHash('sha256').update(clusterId).digest('hex').slice(0, 6)}-`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').replace(/[-_]/g, 'x').slice(0, 12).toUpperCase();
}

/** Backend is one destination of a service port. */
export interface Backend {
  ip: string;
  port: number;
}

/** ServicePortRule is one proxied service port: where it listens and where it sends. */
export interface ServicePortRule {
  /** `<namespace>/<service>:<port name>` (for comments and hashing). */
  name: string;
  clusterIP?: string;
  port: number;
  nodePort?: number;
  protocol: 'tcp' | 'udp';
  backends: Backend[];
}

function usable(endpoints: readonly Loose[]): Loose[] {
  const withAddress = endpoints.filter((e) => Array.isArray(e.addresses) && e.addresses.length > 0);
  const ready = withAddress.filter((e) => e.conditions?.ready !== false);
  if (ready.length > 0) return ready;
  return withAddress.filter((e) => e.conditions?.serving === true && e.conditions?.terminating === true);
}

/** servicePortRules turns Services and their EndpointSlices into proxied ports (sorted, deterministic). */
export function servicePortRules(services: readonly Loose[], slices: readonly Loose[]): ServicePortRule[] {
  const slicesByService = new Map<string, Loose[]>();
  for (const s of slices) {
    const svcName = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (!svcName || s.addressType !== 'IPv4') continue;
    const key = `${s.metadata.namespace}/${svcName}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), s]);
  }
  const rules: ServicePortRule[] = [];
  for (const svc of services) {
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName') continue;
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    const clusterIP = typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
    for (const sp of Array.isArray(spec.ports) ? spec.ports : []) {
      const protocol = String(sp.protocol ?? 'TCP').toLowerCase();
      if (protocol !== 'tcp' && protocol !== 'udp') continue;
      const nodePort = (spec.type === 'NodePort' || spec.type === 'LoadBalancer') && typeof sp.nodePort === 'number' ? sp.nodePort : undefined;
      if (!clusterIP && !nodePort) continue;
      const portName = sp.name ?? '';
      const backends: Backend[] = [];
      const seen = new Set<string>();
      for (const slice of slicesByService.get(key) ?? []) {
        const slicePort = (slice.ports ?? []).find((p: Loose) => (p.name ?? '') === portName && String(p.protocol ?? 'TCP').toLowerCase() === protocol);
        if (!slicePort || typeof slicePort.port !== 'number') continue;
        for (const e of usable(slice.endpoints ?? [])) {
          const b = { ip: String(e.addresses[0]), port: slicePort.port };
          if (!seen.has(`${b.ip}:${b.port}`)) backends.push(b);
          seen.add(`${b.ip}:${b.port}`);
        }
      }
      backends.sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`, undefined, { numeric: true }));
      rules.push({ name: `${key}:${portName}`, clusterIP, port: Number(sp.port), nodePort, protocol: protocol as 'tcp' | 'udp', backends });
    }
  }
  return rules.sort((a, b) => a.name.localeCompare(b.name));
}

/** RuleSet is a restore text and the per-service chains it declares. */
export interface RuleSet {
  /** `iptables-restore --noflush` input. */
  text: string;
  /** Every chain of the prefix the text declares. */
  chains: string[];
}

/**
 * renderRules builds the restore text. `staleChains` (this prefix's chains that exist now) not
 * declared again are flushed and deleted in the same transaction.
 */
export function renderRules(prefix: string, rules: readonly ServicePortRule[], staleChains: readonly string[] = []): RuleSet {
  const svc = `${prefix}SVC`;
  const np = `${prefix}NP`;
  const post = `${prefix}POST`;
  const fwd = `${prefix}FWD`;
  const natChains = [svc, np, post];
  const lines: string[] = [];
  const nodePortLines: string[] = [];
  for (const r of rules) {
    if (r.backends.length === 0) continue;
    const sChain = `${prefix}S${shortHash(`${r.name}/${r.protocol}`)}`;
    natChains.push(sChain);
    const comment = `-m comment --comment "${r.name.replace(/"/g, '')}"`;
    if (r.clusterIP) lines.push(`-A ${svc} -d ${r.clusterIP}/32 -p ${r.protocol} -m ${r.protocol} --dport ${r.port} ${comment} -j ${sChain}`);
    if (r.nodePort) nodePortLines.push(`-A ${np} -p ${r.protocol} -m ${r.protocol} --dport ${r.nodePort} ${comment} -j ${sChain}`);
    r.backends.forEach((b, i) => {
      const eChain = `${prefix}E${shortHash(`${r.name}/${r.protocol}/${b.ip}:${b.port}`)}`;
      natChains.push(eChain);
      const left = r.backends.length - i;
      const pick = left > 1 ? `-m statistic --mode random --probability ${(1 / left).toFixed(10)} ` : '';
      lines.push(`-A ${sChain} ${pick}-j ${eChain}`);
      lines.push(`-A ${eChain} -j MARK --set-xmark ${MASQ_MARK}`);
      lines.push(`-A ${eChain} -p ${r.protocol} -m ${r.protocol} -j DNAT --to-destination ${b.ip}:${b.port}`);
    });
  }
  const declared = new Set(natChains);
  const stale = staleChains.filter((c) => !declared.has(c) && c !== fwd);
  const text = [
    '*nat',
    ...[...natChains, ...stale].map((c) => `:${c} - [0:0]`),
    ...lines,
    `-A ${svc} ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${np}`,
    ...nodePortLines,
    `-A ${post} -m mark --mark ${MASQ_MARK} -j MASQUERADE`,
    ...stale.map((c) => `-X ${c}`),
    'COMMIT',
    '*filter',
    `:${fwd} - [0:0]`,
    `-A ${fwd} -m mark --mark ${MASQ_MARK} -j ACCEPT`,
    'COMMIT',
    '',
  ].join('\n');
  return { text, chains: [...natChains, fwd] };
}

/** JUMPS are the built-in chains' rules into a prefix's chains: [table, built-in chain, target suffix]. */
export const JUMPS: ReadonlyArray<readonly [string, string, string]> = [
  ['nat', 'PREROUTING', 'SVC'],
  ['nat', 'OUTPUT', 'SVC'],
  ['nat', 'POSTROUTING', 'POST'],
  ['filter', 'FORWARD', 'FWD'],
];

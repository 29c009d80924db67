/**
 * A pod's resolver configuration, as the kubelet writes resolv.conf (pkg/kubelet/network/dns):
 * `dnsPolicy` ClusterFirst (the default) points the pod at the cluster DNS with the search path
 * `<ns>.svc.<domain> svc.<domain> <domain>` and `ndots:5`, plus the pod's `dnsConfig`; `Default`
 * keeps the engine's (the node's) resolver; `None` uses `dnsConfig` alone. Rendered as the
 * Docker HostConfig fields of the sandbox, whose resolv.conf every container of the pod shares.
 */
import type { V1Pod } from '../pod-types.js';

/** ClusterDNS is where the node's cluster DNS answers and the domain it serves. */
export interface ClusterDNS {
  nameserver: string;
  domain: string;
}

/** DockerDNS is the sandbox's resolver settings. */
export interface DockerDNS {
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
}

function dnsOptions(options: ReadonlyArray<{ name?: string; value?: string }> | undefined): string[] {
  return (options ?? []).filter((o) => o.name).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : String(o.name)));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** podDNS renders `pod`'s resolver settings; undefined keeps the engine's defaults. */
export function podDNS(pod: Readonly<V1Pod>, cluster: ClusterDNS | undefined): DockerDNS | undefined {
  const spec = pod.spec;
  const policy = spec?.dnsPolicy ?? 'ClusterFirst';
  const config = spec?.dnsConfig;
  if (policy === 'None') {
    return { Dns: config?.nameservers ?? [], DnsSearch: config?.searches ?? [], DnsOptions: dnsOptions(config?.options) };
  }
  if (policy === 'Default' || !cluster || (spec?.hostNetwork && policy !== 'ClusterFirstWithHostNet')) return undefined;
  const ns = pod.metadata?.namespace ?? 'default';
  const search = [`${ns}.svc.${cluster.domain}`, `svc.${cluster.domain}`, cluster.domain];
  const options = new Map([['ndots', 'ndots:5']]);
  for (const o of dnsOptions(config?.options)) options.set(o.split(':')[0]!, o);
  return {
    Dns: unique([cluster.nameserver, ...(config?.nameservers ?? [])]).slice(0, 3),
    DnsSearch: unique([...search, ...(config?.searches ?? [])]).slice(0, 32),
    DnsOptions: [...options.values()],
  };
}

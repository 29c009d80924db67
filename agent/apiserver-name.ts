/**
 * Pods and an API server reached by host name (AKS's answer to the same problem). On Azure the API
 * server is a Function App at `https://<app>.azurewebsites.net`: a public certificate for that name,
 * front ends that route by SNI and Host header. The `default/kubernetes` Service's address cannot
 * reach it (the node proxy forwards addresses, and the certificate and SNI would not match), so a
 * node whose API server URL names a host gives its containers that host and port in
 * KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT (and the KUBERNETES_PORT* family), as AKS
 * does for its API server's FQDN. In-cluster clients (client-go's InClusterConfig) then dial the
 * name, send it as SNI, and verify it with the pod's `ca.crt`.
 *
 * Pods resolve the name as the node does, through DNS (the cluster DNS forwards it to the node's
 * resolver). One case needs help: a name the node resolves to its own loopback (an API server on
 * this machine, as `coracle up` runs it) means nothing inside a container, so the node maps the
 * name to its address on the pods' bridge (an /etc/hosts entry in every sandbox) and relays that
 * address's port to the loopback endpoint (agent/proxy/relay.ts), TLS passing through untouched.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isLoopback, LoopbackRelays } from './proxy/relay.js';

/** ApiServerEndpoint is where pods reach the API server: a host (name or address) and a port. */
export interface ApiServerEndpoint {
  host: string;
  port: number;
}

/**
 * namedApiServer is the API server's host name and port when `server` (the node's API server URL)
 * names a host; undefined when its host is an IP literal (pods then use the `default/kubernetes`
 * Service, kept by the node proxy). The port defaults to 443 for https and 80 for http.
 */
export function namedApiServer(server: string): ApiServerEndpoint | undefined {
  const url = new URL(server);
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === '' || isIP(host) !== 0) return undefined;
  const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  return { host, port };
}

/** PodNameRoute is how pods reach a named API server: through DNS as the node does, or by a hosts entry to the node's bridge address and a relay. */
export type PodNameRoute = { kind: 'dns' } | { kind: 'relay'; hostsEntry: string; listen: ApiServerEndpoint; target: ApiServerEndpoint };

/**
 * podNameRoute decides how pods reach `name:port` that this node resolves to `resolved`: a
 * loopback answer, on a node whose pods' bridge has the address `gateway`, becomes an /etc/hosts
 * entry `name:gateway` and a relay from `gateway:port` to `resolved:port`; any other answer (or
 * no bridge) is left to DNS.
 */
export function podNameRoute(endpoint: ApiServerEndpoint, resolved: string, gateway: string | undefined): PodNameRoute {
  const loopback = isLoopback(resolved) || resolved === '::1';
  if (!loopback || !gateway) return { kind: 'dns' };
  return { kind: 'relay', hostsEntry: `${endpoint.host}:${gateway}`, listen: { host: gateway, port: endpoint.port }, target: { host: resolved, port: endpoint.port } };
}

/** NamedApiServerForPods is what the agent gives its runtime for a named API server, and how to release it. */
export interface NamedApiServerForPods {
  endpoint: ApiServerEndpoint;
  /** Docker `ExtraHosts` entries every sandbox gets (empty: DNS resolves the name). */
  extraHosts: string[];
  close(): void;
}

/**
 * namedApiServerForPods resolves `endpoint` on this node and, when pods need it (podNameRoute),
 * starts the relay on the bridge address. An address already in use there (another agent of the
 * same engine relays it, or the API server listens on every address) is left to that process. Throws when the name does not resolve.
 */
export async function namedApiServerForPods(endpoint: ApiServerEndpoint, gateway: string | undefined, log: (message: string) => void): Promise<NamedApiServerForPods> {
  const { address } = await lookup(endpoint.host);
  const route = podNameRoute(endpoint, address, gateway);
  if (route.kind === 'dns') return { endpoint, extraHosts: [], close: () => undefined };
  const relays = new LoopbackRelays(route.listen.host, log);
  try {
    await relays.relayAt(route.listen.port, { ip: route.target.host, port: route.target.port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    // Another agent of the same engine relays it already, or the API server itself listens there.
    log(`pods reach ${endpoint.host} at ${route.listen.host}:${route.listen.port}, which another process serves`);
  }
  return { endpoint, extraHosts: [route.hostsEntry], close: () => relays.close() };
}

/**
 * Loopback relays: the node proxy's way to give pods a Service endpoint that listens on the host's
 * loopback only. A local cluster's API server listens on 127.0.0.1 (the `default/kubernetes`
 * Service's endpoint), and a DNAT to 127.0.0.0/8 from a container is dropped by the kernel (a
 * martian destination off the loopback interface). So for such an endpoint the proxy listens on
 * its own address on the pods' bridge (where it already serves DNS) and copies bytes both ways to
 * the loopback address: the rules then DNAT the Service's address to that listener instead
 * (kube-proxy's old userspace mode, for this one case). The relay is TCP only and carries TLS
 * untouched: the pod still talks TLS with the API server itself.
 */
import net from 'node:net';
import type { Backend, ServicePortRule } from './rules.js';

/** isLoopback tells whether an IPv4 address is in 127.0.0.0/8. */
export function isLoopback(ip: string): boolean {
  return net.isIPv4(ip) && ip.startsWith('127.');
}

/** LoopbackRelays keeps one TCP relay per loopback backend, listening on `bindAddress`. */
export class LoopbackRelays {
  private readonly relays = new Map<string, { server: net.Server; port: number }>();

  constructor(private readonly bindAddress: string, private readonly log: (message: string) => void) {}

  /** route replaces every loopback TCP backend by its relay (started on first use); relays no rule uses any more are closed. */
  async route(rules: readonly ServicePortRule[]): Promise<ServicePortRule[]> {
    const used = new Set<string>();
    const routed: ServicePortRule[] = [];
    for (const rule of rules) {
      const backends: Backend[] = [];
      for (const b of rule.backends) {
        if (rule.protocol !== 'tcp' || !isLoopback(b.ip)) {
          backends.push(b);
          continue;
        }
        const key = `${b.ip}:${b.port}`;
        used.add(key);
        const port = await this.ensure(key, b);
        backends.push({ ip: this.bindAddress, port });
      }
      routed.push({ ...rule, backends });
    }
    for (const [key, relay] of this.relays) {
      if (used.has(key)) continue;
      this.relays.delete(key);
      relay.server.close();
    }
    return routed;
  }

  /**
   * relayAt keeps a relay listening on `port` of the bind address (not one the system picks) to
   * `target`: for a named API server pods dial at the port its URL gives (agent/apiserver-name.ts).
   * Rejects with EADDRINUSE when something listens there already.
   */
  async relayAt(port: number, target: Backend): Promise<void> {
    await this.ensure(`${target.ip}:${target.port}`, target, port);
  }

  /** close stops every relay (open connections end with their peers). */
  close(): void {
    for (const relay of this.relays.values()) relay.server.close();
    this.relays.clear();
  }

  private async ensure(key: string, target: Backend, listenPort = 0): Promise<number> {
    const existing = this.relays.get(key);
    if (existing) return existing.port;
    // Half-open both ways: a peer's FIN is passed on, and the other direction keeps flowing.
    const server = net.createServer({ allowHalfOpen: true }, (inbound) => {
      const outbound = net.connect({ port: target.port, host: target.ip, allowHalfOpen: true });
      const end = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('error', end).on('close', end);
      outbound.on('error', end).on('close', end);
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, this.bindAddress, () => resolve());
    });
    server.on('error', (err) => this.log(`proxy: relay to ${key} failed: ${err.message}`));
    const port = (server.address() as net.AddressInfo).port;
    this.relays.set(key, { server, port });
    this.log(`proxy: relays ${this.bindAddress}:${port} to the loopback endpoint ${key}`);
    return port;
  }
}

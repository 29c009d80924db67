/**
 * The node proxy (kube-proxy's role) and the node's cluster DNS, run by the agent: it watches
 * Services and EndpointSlices (list+watch informers) and, while it owns the host, keeps this
 * cluster's iptables chains (rules.ts) and answers DNS (dns.ts) from them.
 *
 * One owner per host and cluster. Nodes of a local cluster share one host network, so their
 * proxies would fight over the same rules; instead each agent tries to bind the cluster DNS
 * address (UDP `<dnsAddress>:53`, the pods' nameserver). Binding is atomic and the kernel frees
 * the port when its holder dies, so exactly one agent per host owns DNS and rules, and another
 * takes over within OWNER_RETRY_MS of its end. On Azure every VM is its own host: every node owns
 * its own. A stopping owner removes its rules, so a cluster that stops leaves nothing behind.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { findResourceByKind } from '../../shared/api/resources.js';
import type { ApiClient } from '../../shared/controllers/client.js';
import { Informer } from '../../shared/controllers/informer.js';
import { DnsServer, dnsRecords } from './dns.js';
import { applyRules, removeRules } from './iptables.js';
import { LoopbackRelays } from './relay.js';
import { chainPrefix, servicePortRules } from './rules.js';

const SERVICES = findResourceByKind('v1', 'Service')!;
const SLICES = findResourceByKind('discovery.k8s.io/v1', 'EndpointSlice')!;

/** OWNER_RETRY_MS is how often a standby proxy tries to become the owner. */
export const OWNER_RETRY_MS = 1000;
/** RESYNC_MS rewrites the rules even without changes (someone may have flushed them). */
const RESYNC_MS = 30_000;
/** STATS_MS is how often an owner logs its DNS counters (when they changed) and the event loop's worst delay. */
const STATS_MS = 5_000;

/** NodeProxyOptions wire one node's proxy. */
export interface NodeProxyOptions {
  client: ApiClient;
  /** A stable cluster identity (the API server URL): names the chains. */
  clusterId: string;
  /** The address pods use as their nameserver (the node's address on the pods' bridge). */
  dnsAddress: string;
  dnsPort?: number;
  /** Write iptables rules (false: DNS only, e.g. without root). */
  iptables: boolean;
  log: (message: string) => void;
}

/** NodeProxy keeps one host's service rules and DNS while it owns them. */
export class NodeProxy {
  readonly prefix: string;
  private readonly services: Informer;
  private readonly slices: Informer;
  private dns: DnsServer | undefined;
  /** Relays for endpoints on the host's loopback (the local API server), see relay.ts. */
  private readonly relays: LoopbackRelays;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private loopDelay: IntervalHistogram | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private dirty = false;
  private stopped = false;
  /** Epoch ms of the last rules written (tests, logs). */
  lastSync = 0;

  constructor(private readonly o: NodeProxyOptions) {
    this.prefix = chainPrefix(o.clusterId);
    this.relays = new LoopbackRelays(o.dnsAddress, o.log);
    const onError = (err: unknown) => o.log(`proxy: watch failed: ${(err as Error).message}`);
    this.services = new Informer(o.client, SERVICES, onError);
    this.slices = new Informer(o.client, SLICES, onError);
    for (const inf of [this.services, this.slices]) inf.onChange(() => this.schedule());
  }

  /** owner tells whether this proxy holds the host now. */
  get owner(): boolean {
    return this.dns !== undefined;
  }

  /** start begins watching and trying to own the host; resolves once both caches are filled. */
  async start(): Promise<void> {
    this.services.start();
    this.slices.start();
    await Promise.all([this.services.synced(), this.slices.synced()]);
    await this.tryOwn();
  }

  private async tryOwn(): Promise<void> {
    if (this.stopped || this.dns) return;
    try {
      this.dns = await DnsServer.listen(this.o.dnsAddress, this.o.dnsPort ?? 53, this.o.log);
      this.o.log(`proxy: owns ${this.o.dnsAddress}:${this.o.dnsPort ?? 53} (cluster DNS${this.o.iptables ? ` and iptables chains ${this.prefix}*` : ''})`);
      this.resync = setInterval(() => this.schedule(), RESYNC_MS);
      this.logStats();
      this.schedule(0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') this.o.log(`proxy: cannot serve DNS on ${this.o.dnsAddress}: ${(err as Error).message}`);
      if (!this.stopped) this.timer = setTimeout(() => void this.tryOwn(), OWNER_RETRY_MS);
    }
  }

  /** logStats logs the DNS counters every STATS_MS while they change, with the event loop's worst delay in that time. */
  private logStats(): void {
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
    let last = -1;
    this.statsTimer = setInterval(() => {
      const stats = this.dns?.stats;
      if (!stats || stats.queries === last) return;
      last = stats.queries;
      const lagMs = Math.round(this.loopDelay!.max / 1e6);
      this.loopDelay!.reset();
      this.o.log(`proxy: dns ${JSON.stringify({ ...stats, slowestMs: Math.round(stats.slowestMs) })} event-loop max delay ${lagMs} ms`);
    }, STATS_MS);
  }

  /** schedule coalesces changes into one sync shortly after (kube-proxy's minSyncPeriod, small). */
  private schedule(delayMs = 20): void {
    if (!this.dns || this.stopped) return;
    if (this.dirty) return;
    this.dirty = true;
    setTimeout(() => {
      this.syncing = this.syncing.then(() => this.sync()).catch((err: unknown) => {
        this.o.log(`proxy: sync failed: ${(err as Error).message}`);
        setTimeout(() => this.schedule(), 1000);
      });
    }, delayMs);
  }

  /** sync writes DNS names and rules from the caches now. */
  private async sync(): Promise<void> {
    this.dirty = false;
    if (!this.dns || this.stopped) return;
    const services = [...this.services.values()];
    const slices = [...this.slices.values()];
    this.dns.update(dnsRecords(services, slices));
    if (this.o.iptables) await applyRules(this.prefix, await this.relays.route(servicePortRules(services, slices)));
    this.lastSync = Date.now();
  }

  /** stop ends the watches; an owner removes its rules and frees the DNS address for the next owner. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.resync);
    clearInterval(this.statsTimer);
    this.loopDelay?.disable();
    await Promise.all([this.services.stop(), this.slices.stop()]);
    await this.syncing.catch(() => undefined);
    if (this.dns) {
      if (this.o.iptables) await removeRules(this.prefix).catch((err: unknown) => this.o.log(`proxy: cleanup failed: ${(err as Error).message}`));
      this.relays.close();
      await this.dns.close();
      this.dns = undefined;
    }
  }
}

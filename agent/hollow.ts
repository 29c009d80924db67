/**
 * Hollow nodes (KWOK's idea, kubemark's name): many nodes in one agent process, each a full Agent
 * (Node, Lease, pod reconcile, status) over the simulated runtime, sharing one API client and
 * connection pool and ONE pod watch whose events are routed to each node's in-memory work queue
 * (a queue long poll or a watch per node would hold a connection each). Lease renewals are
 * spread evenly over the renew interval; nodes start a few at a time.
 */
import type { ApiClient } from '../shared/controllers/client.js';
import { Agent } from './agent.js';
import { goArch, LEASE_RENEW_INTERVAL_MS, type NodeConfig } from './node.js';
import { createSimulatedRuntime } from './runtime/simulated/index.js';
import { KeyQueue, watchPods } from './work.js';

/** HollowOptions configure a set of hollow nodes. */
export interface HollowOptions {
  client: ApiClient;
  /** How many nodes: named `<prefix>-1` … `<prefix>-<count>`. */
  count: number;
  prefix: string;
  cpu?: number;
  memoryBytes?: number;
  pods?: number;
  zone?: string;
  instanceType?: string;
  /** Simulated runtime: delay before a created pod runs (ms). */
  startDelayMs?: number;
  leaseIntervalMs?: number;
  resyncIntervalMs?: number;
  /** Usage reports for the Metrics API, ms between them (default 0: off, see the constructor). */
  metricsIntervalMs?: number;
  /** Nodes registering at once (default 32). */
  startConcurrency?: number;
  log?: (message: string) => void;
}

/** hollowIP is node `index`'s fake InternalIP, unique for up to ~1M nodes (in 172.16.0.0/12). */
export function hollowIP(index: number): string {
  return `172.${16 + ((index >> 16) & 15)}.${(index >> 8) & 255}.${index & 255}`;
}

/** HollowNodes runs the nodes; `start` resolves once every node registered. */
export class HollowNodes {
  readonly agents: Agent[] = [];
  private readonly queues = new Map<string, KeyQueue>();
  private readonly abort = new AbortController();
  private watch: Promise<void> | undefined;

  constructor(private readonly o: HollowOptions) {
    const interval = o.leaseIntervalMs ?? LEASE_RENEW_INTERVAL_MS;
    const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
    for (let i = 1; i <= o.count; i++) {
      const name = `${o.prefix}-${i}`;
      const node: NodeConfig = {
        name, cpu: o.cpu ?? 4, memoryBytes: o.memoryBytes ?? 16 * 1024 ** 3, pods: o.pods ?? 110, internalIP: hollowIP(i),
        containerRuntimeVersion: 'simulated://0.1.0', arch: goArch(process.arch), zone: o.zone, instanceType: o.instanceType,
        labels: { type: 'hollow' },
      };
      const work = new KeyQueue(8, (m) => log(`agent ${name}: ${m}`));
      this.queues.set(name, work);
      const runtime = createSimulatedRuntime({ nodeName: name, hostIP: node.internalIP, startDelayMs: o.startDelayMs });
      this.agents.push(new Agent({
        client: o.client, runtime, node, work, log: (m) => log(`agent ${name}: ${m}`),
        leaseIntervalMs: interval, leaseOffsetMs: Math.floor(((i - 1) * interval) / o.count),
        resyncIntervalMs: o.resyncIntervalMs ?? 5 * 60_000, concurrency: 2,
        // Hollow nodes are for scale: 1,000 of them reporting usage would add ~67 store writes a
        // second to the API server under test. `metricsIntervalMs` turns it on.
        metricsIntervalMs: o.metricsIntervalMs ?? 0, metricsIncludeAgentProcess: false,
      }));
    }
  }

  /** start registers every node (a few at a time) and starts the shared pod watch. */
  async start(): Promise<void> {
    const log = this.o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
    this.watch = watchPods(this.o.client, undefined, (nodeName, ns, name) => this.queues.get(nodeName)?.add(ns, name), this.abort.signal, (m) => log(`hollow: ${m}`));
    let next = 0;
    const worker = async () => {
      while (next < this.agents.length && !this.abort.signal.aborted) await this.agents[next++].start();
    };
    await Promise.all(Array.from({ length: this.o.startConcurrency ?? 32 }, worker));
  }

  /** stop stops every node and the watch. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.agents.map((a) => a.stop()));
    await this.watch;
  }
}

/**
 * `coracle agent`: runs one node agent (or, with `--hollow K`, K hollow nodes) against a cluster.
 * The token comes from `--token`, `--token-file` or `CORACLE_AGENT_TOKEN` (the way `coracle up`
 * hands it over, so it never shows in `ps`), or the node joins with `--bootstrap-token` and keeps
 * the credential it gets in `--credential-file` (agent/join.ts). Work comes from the node's queue when `--queue-url`
 * is given, else from a watch of the pods bound to the node. SIGTERM/SIGINT stop the agent and
 * leave its containers running (a restarted agent adopts them). Prints `agent <node>: ready`
 * once registered and resynced.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import os from 'node:os';
import { ApiClient, type FetchLike } from '../shared/controllers/client.js';
import { joinCluster } from '../agent/join.js';
import { readLogsConfig, readQueueConfig } from '../functions/config.js';
import { Agent } from '../agent/agent.js';
import { HollowNodes } from '../agent/hollow.js';
import { AGENT_VERSION, goArch } from '../agent/node.js';
import { apiEnvSources } from '../agent/env.js';
import { namedApiServer, namedApiServerForPods } from '../agent/apiserver-name.js';
import { createRuntime, dockerSocketPath, machineIP, type RuntimeKind } from '../agent/runtimes.js';
import { NodeProxy } from '../agent/proxy/index.js';
import { bridgeGateway } from '../agent/proxy/bridge.js';
import { iptablesUnavailable } from '../agent/proxy/iptables.js';
import { CLUSTER_DOMAIN } from '../agent/proxy/dns.js';
import type { ClusterDNS } from '../agent/runtime/moby/dns.js';
import { createTransport } from '../agent/transport.js';
import { StreamTunnel } from '../agent/stream-tunnel.js';
import { KeyQueue, queueSource, watchPods, type WorkSource } from '../agent/work.js';
import { checkPoolName } from '../shared/nodes/provider.js';
import { NODEPOOL_LABEL } from '../shared/upgrade/preview.js';
import { findResource } from '../shared/api/resources.js';
import { parseIPv4CIDR } from '../shared/apiserver/allocator.js';
import { podCIDRsOf } from '../shared/api/node.js';
import { podChains, type PodNetworkOptions } from '../agent/runtime/moby/podnet.js';

/** AgentCliOptions are `coracle agent`'s options, as commander parsed them. */
export interface AgentCliOptions {
  nodeName: string;
  server: string;
  token?: string;
  tokenFile?: string;
  bootstrapToken?: string;
  credentialFile: string;
  caFile?: string;
  runtime: RuntimeKind;
  dockerHost?: string;
  queueUrl?: string;
  logsFile?: string;
  hollow?: number;
  zone?: string;
  instanceType?: string;
  nodePool?: string;
  nodeIp?: string;
  cpu?: number;
  memory?: number;
  pods: number;
  startDelayMs?: number;
  resyncSeconds: number;
  streamGateway?: string;
  /** A VM node: the cluster CIDR; pods then use the Node's pod CIDR (see podNetworkOf). Empty or absent: the engine's default bridge. */
  clusterCidr?: string;
}

/** poolLabel is the node's pool label, when it has a pool. */
function poolLabel(pool: string | undefined): Record<string, string> | undefined {
  if (!pool) return undefined;
  checkPoolName(pool);
  return { [NODEPOOL_LABEL]: pool };
}

/** Running is a started agent process's handle. */
export interface RunningAgent {
  stop(): Promise<void>;
}

/** osImage is the machine's PRETTY_NAME from /etc/os-release, as the kubelet reports it. */
async function osImage(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'Linux';
}

/**
 * tokenOf returns the agent's credential: `--token`, `--token-file` or CORACLE_AGENT_TOKEN as
 * given, else the node's own credential, obtained with `--bootstrap-token` on first start
 * (agent/join.ts) and kept in `--credential-file`.
 */
async function tokenOf(o: AgentCliOptions, fetch: FetchLike, log: (m: string) => void): Promise<string> {
  const token = o.token ?? (o.tokenFile ? (await readFile(o.tokenFile, 'utf8')).trim() : process.env.CORACLE_AGENT_TOKEN);
  if (token) return token;
  const bootstrapToken = o.bootstrapToken ?? process.env.CORACLE_BOOTSTRAP_TOKEN;
  if (!bootstrapToken) throw new Error('no token: give --token, --token-file, CORACLE_AGENT_TOKEN, or --bootstrap-token to join');
  if (o.hollow) throw new Error('--bootstrap-token joins one node; hollow nodes take a --token');
  return joinCluster({ server: o.server, fetch, nodeName: o.nodeName, bootstrapToken, credentialFile: o.credentialFile, log });
}

/**
 * workSource picks where the node's work comes from: Service Bus when SERVICEBUS_CONNECTION_STRING
 * or SERVICEBUS_NAMESPACE is set (the node's queue, created by the control plane when the Node
 * registers; with a namespace the VM's managed identity, AZURE_CLIENT_ID, signs), else the local
 * host's embedded queue at `--queue-url`, else a watch of the pods bound to the node. The two
 * queues go through the same WorkQueue port and queueSource.
 */
async function workSource(o: AgentCliOptions, client: ApiClient, token: string, ca: string | undefined, signal: AbortSignal, log: (m: string) => void): Promise<WorkSource> {
  const serviceBus = readQueueConfig({ SERVICEBUS_CONNECTION_STRING: process.env.SERVICEBUS_CONNECTION_STRING, SERVICEBUS_NAMESPACE: process.env.SERVICEBUS_NAMESPACE, AZURE_CLIENT_ID: process.env.AZURE_CLIENT_ID });
  if (serviceBus?.kind === 'servicebus') {
    const { openServiceBusTarget } = await import('../adapters/workqueue/servicebus/index.js');
    return queueSource(await openServiceBusTarget(serviceBus, { manageQueues: false }), o.nodeName, log);
  }
  if (o.queueUrl) {
    const { HttpWorkQueue } = await import('../adapters/workqueue/http/index.js');
    return queueSource(new HttpWorkQueue({ server: o.queueUrl, token, ca }), o.nodeName, log);
  }
  const keys = new KeyQueue(8, log);
  void watchPods(client, `spec.nodeName=${o.nodeName}`, (_node, ns, name) => keys.add(ns, name), signal, log);
  return keys;
}

/**
 * nodeProxy builds the node's service proxy and cluster DNS (moby nodes): DNS on the engine
 * bridge's gateway, iptables rules when this process may write them. Undefined (with a log line)
 * when the engine has no bridge gateway.
 */
async function nodeProxy(o: AgentCliOptions, client: ApiClient, log: (m: string) => void): Promise<{ proxy: NodeProxy; clusterDNS: ClusterDNS } | undefined> {
  const gateway = await bridgeGateway(dockerSocketPath(o.dockerHost)).catch(() => undefined);
  if (!gateway) {
    log('no bridge gateway in the engine: no service proxy or cluster DNS on this node');
    return undefined;
  }
  const refusal = await iptablesUnavailable();
  if (refusal) log(`service proxy off (${refusal}); cluster DNS only`);
  return { proxy: new NodeProxy({ client, clusterId: o.server, dnsAddress: gateway, iptables: !refusal, log }), clusterDNS: { nameserver: gateway, domain: CLUSTER_DOMAIN } };
}

/**
 * podNetworkOf is a VM node's pod network (agent/runtime/moby/podnet.ts) when `--cluster-cidr` is
 * given: the Node's `spec.podCIDR` read through the API, the masquerade chain named after the
 * cluster, iptables when this process may write them. Local nodes (`coracle up`) are not given
 * `--cluster-cidr`: they share one engine and its default bridge.
 */
async function podNetworkOf(o: AgentCliOptions, client: ApiClient, log: (m: string) => void): Promise<PodNetworkOptions | undefined> {
  if (o.runtime !== 'moby' || !o.clusterCidr) return undefined;
  const refusal = await iptablesUnavailable();
  if (refusal) log(`no masquerade or forward rules for pods (${refusal}): pods reach neither the internet nor other VMs' pods`);
  const nodes = findResource('', 'v1', 'nodes')!;
  return {
    podCIDR: async () => podCIDRsOf(await client.get(nodes, { name: o.nodeName }))[0],
    clusterCIDR: o.clusterCidr, chains: podChains(o.server), iptables: !refusal,
  };
}

/** workSourceName names the work source workSource picks, for the ready line. */
export function workSourceName(o: Pick<AgentCliOptions, 'queueUrl'>, env: NodeJS.ProcessEnv = process.env): 'service bus' | 'queue' | 'watch' {
  if (env.SERVICEBUS_CONNECTION_STRING || env.SERVICEBUS_NAMESPACE) return 'service bus';
  return o.queueUrl ? 'queue' : 'watch';
}

/** startAgent starts what the options ask for and resolves once it is registered. */
export async function startAgent(o: AgentCliOptions, out: (line: string) => void): Promise<RunningAgent> {
  const ca = o.caFile ? await readFile(o.caFile, 'utf8') : undefined;
  const transport = createTransport({ caPem: ca, maxSockets: o.hollow ? 64 : 8 });
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const token = await tokenOf(o, transport.fetch, (m) => log(`agent ${o.nodeName}: ${m}`)).catch((err: unknown) => {
    transport.close();
    throw err;
  });
  const client = new ApiClient(transport.fetch, { baseUrl: o.server, token, userAgent: `coracle-agent/${AGENT_VERSION} (${process.platform}/${goArch(process.arch)})` });
  if (o.hollow) {
    const hollow = new HollowNodes({
      client, count: o.hollow, prefix: o.nodeName, cpu: o.cpu, memoryBytes: o.memory, pods: o.pods, zone: o.zone,
      instanceType: o.instanceType, startDelayMs: o.startDelayMs, resyncIntervalMs: o.resyncSeconds * 1000, log,
    });
    await hollow.start();
    out(`agent ${o.nodeName}: ready (${o.hollow} hollow nodes)`);
    return { stop: async () => { await hollow.stop(); transport.close(); } };
  }
  const stopping = new AbortController();
  const nodeLog = (m: string) => log(`agent ${o.nodeName}: ${m}`);
  const hostIP = o.nodeIp ?? machineIP();
  const logsConnectionString = o.logsFile ? (await readFile(o.logsFile, 'utf8')).trim() : process.env.CORACLE_LOGS;
  // Azure nodes: LOGS_BLOB_ENDPOINT (an account URL) signed with the VM's identity (AZURE_CLIENT_ID), as cloud-init sets them.
  const logsConfig = logsConnectionString ? undefined : readLogsConfig({ LOGS_BLOB_ENDPOINT: process.env.LOGS_BLOB_ENDPOINT, AZURE_CLIENT_ID: process.env.AZURE_CLIENT_ID });
  const logsAccountUrl = logsConfig && 'accountUrl' in logsConfig ? logsConfig : undefined;
  const proxy = o.runtime === 'moby' ? await nodeProxy(o, client, nodeLog) : undefined;
  // An API server reached by host name (Azure's Function App): containers get that name (agent/apiserver-name.ts).
  const named = namedApiServer(o.server);
  const forPods = named && o.runtime === 'moby' ? await namedApiServerForPods(named, proxy?.clusterDNS.nameserver, nodeLog) : undefined;
  const built = await createRuntime({
    kind: o.runtime, nodeName: o.nodeName, hostIP, env: apiEnvSources(client, named), dockerHost: o.dockerHost, startDelayMs: o.startDelayMs,
    logsConnectionString, logsAccountUrl, log: nodeLog, clusterDNS: proxy?.clusterDNS, podNetwork: await podNetworkOf(o, client, nodeLog), extraHosts: forPods?.extraHosts,
  });
  const { runtime, version } = built;
  const agent = new Agent({
    client, runtime, log: nodeLog, resyncIntervalMs: o.resyncSeconds * 1000,
    work: await workSource(o, client, token, ca, stopping.signal, nodeLog),
    node: {
      name: o.nodeName, cpu: o.cpu ?? os.cpus().length, memoryBytes: o.memory ?? os.totalmem(), pods: o.pods, internalIP: hostIP,
      containerRuntimeVersion: version, arch: goArch(process.arch), zone: o.zone, instanceType: o.instanceType,
      kernelVersion: os.release(), osImage: await osImage(), labels: poolLabel(o.nodePool ?? process.env.CORACLE_NODE_POOL),
    },
  });
  await agent.start();
  await proxy?.proxy.start();
  // exec and attach reach this node through a tunnel it dials out to the stream gateway (the API server's address unless told otherwise).
  const tunnel = new StreamTunnel({ gateway: o.streamGateway ?? process.env.CORACLE_STREAM_GATEWAY ?? o.server, token, caPem: ca, runtime, nodeName: o.nodeName, log: nodeLog });
  tunnel.start();
  out(`agent ${o.nodeName}: ready (${o.runtime} runtime, ${workSourceName(o)} work source)`);
  return {
    async stop() {
      stopping.abort();
      tunnel.stop();
      await proxy?.proxy.stop();
      await agent.stop();
      await built.close(); // leaves containers running
      forPods?.close();
      transport.close();
    },
  };
}

function whole(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** cidrArg accepts an IPv4 CIDR, or '' (systemd's empty `--cluster-cidr=${VAR}`: none). */
function cidrArg(value: string): string {
  if (value !== '' && !parseIPv4CIDR(value)) throw new InvalidArgumentError('expected an IPv4 CIDR such as 10.244.0.0/16');
  return value;
}

/** STOP_GRACE_MS is how long a stopping agent waits for in-flight work before it exits anyway. */
export const STOP_GRACE_MS = 10_000;

/** runAgent starts the agent and keeps it until SIGINT or SIGTERM (exit 0), or exits 1 if it cannot start. */
export async function runAgent(options: AgentCliOptions): Promise<void> {
  const fail = (err: unknown): never => {
    process.stderr.write(`coracle agent: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  };
  let stopRequested: NodeJS.Signals | undefined;
  let running: RunningAgent | undefined = undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stopRequested) process.exit(1); // a second signal: stop waiting
    stopRequested = signal;
    process.stderr.write(`agent ${options.nodeName}: ${signal} received, stopping (containers keep running)\n`);
    // In-flight API calls to an overloaded server may take a minute each (20 hollow nodes' worth
    // of them kept `bench:overload`'s agent alive past its SIGTERM): wait for them only so long.
    setTimeout(() => {
      process.stderr.write(`agent ${options.nodeName}: in-flight work not settled ${STOP_GRACE_MS / 1000} s after ${signal}; exiting\n`);
      process.exit(0);
    }, STOP_GRACE_MS).unref();
    if (running) running.stop().then(() => process.exit(0), fail);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Started by `coracle up` with an IPC channel: when that parent dies (even by kill -9) the channel
  // closes, and the agent stops as on SIGTERM instead of living on beside the next `coracle up`'s agents.
  if (process.send) process.once('disconnect', () => stop('SIGTERM'));
  running = await startAgent(options, (line) => process.stdout.write(`${line}\n`)).catch(fail);
  if (stopRequested) await running.stop().then(() => process.exit(0), fail);
}

/** agentCommand is the `coracle agent` command, for the CLI to add. */
export function agentCommand(): Command {
  return new Command('agent')
    .description('run a node agent (the kubelet\'s job): register a Node, renew its Lease, run the pods bound to it')
    // Lowercased, as the kubelet lowercases the host name: Azure names scale set VMs `<prefix><SUFFIX>`, and a Node name is a DNS-1123 subdomain.
    .requiredOption('--node-name <name>', 'the node\'s name, lowercased (with --hollow: the prefix of <name>-1 … <name>-K)', (v: string) => v.toLowerCase())
    .requiredOption('--server <url>', 'the API server, e.g. https://127.0.0.1:6443')
    .option('--token <token>', 'bearer token (default: --token-file, else CORACLE_AGENT_TOKEN)')
    .option('--token-file <file>', 'file holding the bearer token')
    .option('--bootstrap-token <token>', 'join with this bootstrap token (`coracle token create`; default: CORACLE_BOOTSTRAP_TOKEN) when no token is given: the node gets a credential of its own, kept in --credential-file')
    .option('--credential-file <file>', 'where the node\'s own credential is kept (read on start; written when joining)', '/var/lib/coracle/node-credential')
    .option('--ca-file <file>', 'CA certificate (PEM) that signed the server\'s certificate')
    .addOption(new Option('--runtime <runtime>', 'how pods run').choices(['moby', 'simulated']).default('moby'))
    .option('--docker-host <host>', 'Docker engine for the moby runtime (default: DOCKER_HOST, else /var/run/docker.sock)')
    .option('--queue-url <url>', 'take work from the node\'s queue on this server (default: watch the pods bound to the node)')
    .option('--logs-file <file>', 'file holding the Blob Storage connection string for container logs (default: CORACLE_LOGS)')
    .option('--hollow <k>', 'run K hollow nodes (simulated runtime) in this process', whole(1, 100_000))
    .option('--zone <zone>', 'topology.kubernetes.io/zone label')
    .option('--instance-type <type>', 'node.kubernetes.io/instance-type label')
    .option('--node-pool <pool>', 'the node pool this node belongs to: its coracle.io/nodepool label (default: CORACLE_NODE_POOL)')
    .option('--node-ip <ip>', 'the InternalIP address (default: this machine\'s first IPv4 address)')
    .option('--cpu <n>', 'CPU capacity (default: this machine\'s)', whole(1, 1024))
    .option('--memory <bytes>', 'memory capacity in bytes (default: this machine\'s)', whole(1, Number.MAX_SAFE_INTEGER))
    .option('--pods <n>', 'pod capacity', whole(1, 10_000), 110)
    .option('--start-delay-ms <ms>', 'simulated runtime: delay before a created pod runs', whole(0, 600_000))
    .option('--resync-seconds <s>', 'full resync period', whole(1, 86_400), 60)
    .option('--cluster-cidr <cidr>', 'a VM node: put pods on a bridge of the Node\'s spec.podCIDR and masquerade only their traffic leaving this cluster CIDR (default: none, pods share the engine\'s default bridge, as local nodes do)', cidrArg)
    .option('--stream-gateway <url>', 'where exec and attach streams reach this node: the stream gateway the agent dials (default: CORACLE_STREAM_GATEWAY, else --server)')
    .action((options: AgentCliOptions) => runAgent(options));
}

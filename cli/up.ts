/**
 * `coracle up`: the whole local cluster in one process. Prepares the data folder (CA, serving
 * certificate, admin token), starts the local Functions host over HTTPS with the app's functions
 * (API server on SQLite in the data folder), writes the kubeconfig and prints one ready line.
 * SIGINT/SIGTERM stop it cleanly (watches end, the store closes) with exit code 0.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { machineIP } from '../agent/runtimes.js';
import { fileURLToPath } from 'node:url';
import { useAppSettings } from '../functions/config.js';
import { startLocalHost, type LocalHost } from '../local/host.js';
import { startAzurite } from '../local/azurite.js';
import { createLogger } from '../local/logger.js';
import { createQueueServer, QUEUE_PATH_PREFIX } from '../local/queue-server.js';
import { lockDataDir, prepareDataDir, securitySettings } from './data-dir.js';
import { listReleases, releaseEntry } from '../local/releases.js';
import { createTransport } from '../agent/transport.js';
import { createLocalStreamGateway, resolverAt } from '../local/stream-gateway.js';
import { ApiClient } from '../shared/controllers/client.js';
import { recordClusterObjects } from './cluster-objects.js';
import { writeKubeconfig } from './kubeconfig.js';
import { authenticateToken } from '../shared/apiserver/auth.js';
import { issueNodeCredential } from '../shared/apiserver/tokens.js';
import { localControlPlaneHost, type ReleaseToRun } from '../local/control-plane.js';
import type { ConnectionSource } from '../local/listener.js';
import { useControlPlaneHost, useNodeProvider } from '../functions/node-provider.js';
import { awaitedNodeProvider, type NodeProvider } from '../shared/nodes/provider.js';
import { ensureNodeTokens, LOCAL_POOL, localNodeNames, resolveNodeEngine, startLocalNodes, type LocalNodes, type NodeEngine } from './nodes.js';

/** UpOptions are `coracle up`'s options, validated. */
export interface UpOptions {
  port: number;
  dataDir: string;
  nodes: number;
  /** How nodes run containers; absent: decided when nodes exist (Moby if an engine answers). */
  runtime?: 'moby' | 'simulated';
  host: string;
  /** Seconds a node's agent may stay silent before its node is Unknown (CORACLE_NODE_MONITOR_GRACE_SECONDS; default 40). */
  nodeMonitorGracePeriod?: number;
  /** tolerationSeconds of the default not-ready/unreachable tolerations (CORACLE_DEFAULT_TOLERATION_SECONDS; default 300). */
  defaultTolerationSeconds?: number;
  /** A watch lasts a random time in [this, 2×] seconds (CORACLE_MIN_REQUEST_TIMEOUT_SECONDS; default 240). */
  minRequestTimeout?: number;
  /** A quiet watch gets a keep-alive this often, in seconds (CORACLE_WATCH_KEEPALIVE_SECONDS; default 30). */
  watchKeepalive?: number;
  /** OIDC sign-in, as kube-apiserver's `--oidc-*` flags (CORACLE_OIDC_*; shared/apiserver/oidc.ts). */
  oidcIssuerUrl?: string;
  oidcClientId?: string;
  oidcUsernameClaim?: string;
  oidcUsernamePrefix?: string;
  oidcGroupsClaim?: string;
  oidcGroupsPrefix?: string;
  /** `claim=value` pairs every OIDC token must carry. */
  oidcRequiredClaim?: string[];
  oidcCaFile?: string;
  /** JWS algorithms accepted, comma-separated (default RS256). */
  oidcSigningAlgs?: string;
  /** The range nodes' pod CIDRs come from (CORACLE_CLUSTER_CIDR); undefined: none. */
  clusterCidr?: string;
  /** Run Azure-shaped: this many HTTP host processes (plus a durable and a triggers one) on the Cosmos DB emulator (cli/up-instances.ts). */
  instances?: number;
  /**
   * Called when a cluster upgrade moves the control plane onto another release (cli/coracle.ts
   * then stops this cluster, keeping the engine, and starts that release's `coracle up`). Without
   * it the single-process control plane cannot move, and an upgrade's control plane step fails.
   */
  onMove?: (release: ReleaseToRun, port: number) => void;
  /** Take the API's connections from here instead of listening (the port held across handovers, local/listener.ts); its port wins over `port`. */
  connections?: ConnectionSource;
}

/** UpHost is the running cluster `up` resolves to; `stop({ keepEngine })` leaves a private dockerd running (and the containers in it), for a handover. */
export interface UpHost extends Pick<LocalHost, 'url' | 'port'> {
  stop(options?: { keepEngine?: boolean }): Promise<void>;
}

/** lifecycleSettings are the app settings of the node lifecycle, watch, OIDC and pod network options given. */
function lifecycleSettings(options: UpOptions): Record<string, string> {
  const env: Record<string, string> = {};
  const oidc: [string, string | undefined][] = [
    ['CORACLE_OIDC_ISSUER_URL', options.oidcIssuerUrl], ['CORACLE_OIDC_CLIENT_ID', options.oidcClientId],
    ['CORACLE_OIDC_USERNAME_CLAIM', options.oidcUsernameClaim], ['CORACLE_OIDC_USERNAME_PREFIX', options.oidcUsernamePrefix],
    ['CORACLE_OIDC_GROUPS_CLAIM', options.oidcGroupsClaim], ['CORACLE_OIDC_GROUPS_PREFIX', options.oidcGroupsPrefix],
    ['CORACLE_OIDC_REQUIRED_CLAIMS', options.oidcRequiredClaim?.join(',')],
    ['CORACLE_OIDC_CA_FILE', options.oidcCaFile && path.resolve(options.oidcCaFile)],
    ['CORACLE_OIDC_SIGNING_ALGS', options.oidcSigningAlgs],
  ];
  for (const [name, value] of oidc) if (value) env[name] = value;
  if (options.nodeMonitorGracePeriod !== undefined) env.CORACLE_NODE_MONITOR_GRACE_SECONDS = String(options.nodeMonitorGracePeriod);
  if (options.defaultTolerationSeconds !== undefined) env.CORACLE_DEFAULT_TOLERATION_SECONDS = String(options.defaultTolerationSeconds);
  if (options.minRequestTimeout !== undefined) env.CORACLE_MIN_REQUEST_TIMEOUT_SECONDS = String(options.minRequestTimeout);
  if (options.watchKeepalive !== undefined) env.CORACLE_WATCH_KEEPALIVE_SECONDS = String(options.watchKeepalive);
  if (options.clusterCidr) env.CORACLE_CLUSTER_CIDR = options.clusterCidr;
  return env;
}

/**
 * LOGS_CONNECTION_FILE, in the data folder, holds the connection string of the cluster's Azurite
 * (container logs): agents and tools ship and read logs with it. Locally the dev account key is
 * fine; in Azure agents get a SAS for the `container-logs` container instead.
 */
export const LOGS_CONNECTION_FILE = 'logs-connection-string';

/** APP_DIR is the function app this CLI ships with: the package root (package.json `main`, host.json). */
export const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The address clients use: a wildcard bind is reached over loopback. */
function clientHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1';
  if (bind === '::') return '::1';
  return bind;
}

const urlHost = (h: string): string => (h.includes(':') ? `[${h}]` : h);

/**
 * sampleImagesLine builds the sample images (images/) the node engine lacks — a private dockerd
 * starts empty and nothing can be pulled here — and says what it did, so that
 * `kubectl run web --image=coracle/web:v1` works on a fresh cluster.
 */
export async function sampleImagesLine(dockerHost: string): Promise<string> {
  const { dockerFor, ensureSampleImages, SAMPLE_IMAGES } = await import('./images.js');
  const started = Date.now();
  try {
    const { built, error } = await ensureSampleImages(dockerFor(dockerHost));
    if (error) return `coracle: the sample images could not be built (${error.message}); pods can use only images already in the engine`;
    const tags = SAMPLE_IMAGES.map((i) => i.tag).join(', ');
    if (built.length === 0) return `coracle: sample images present: ${tags}`;
    return `coracle: built the sample images ${built.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s; nothing can be pulled here)`;
  } catch (err) {
    return `coracle: could not check the sample images: ${(err as Error).message}`;
  }
}

/** freePort asks the system for a free TCP port on `host`. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** advertiseIP is the IPv4 address the `kubernetes` Service's endpoints give: the listen address, or this machine's when listening on all. */
function advertiseIP(host: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) && host !== '0.0.0.0') return host;
  return machineIP();
}

/** recordLocalCluster writes the Cluster and NodePool objects through the API (cli/cluster-objects.ts). */
export async function recordLocalCluster(server: string, caPem: string, token: string, dataDir: string, nodes: number): Promise<void> {
  const transport = createTransport({ caPem });
  try {
    const client = new ApiClient(transport.fetch, { baseUrl: server, token, userAgent: 'coracle-up' });
    const catalog = (await listReleases(dataDir, APP_DIR)).map((r) => r.version);
    await recordClusterObjects(client, catalog, nodes > 0 ? { name: LOCAL_POOL, count: nodes } : undefined);
  } finally {
    transport.close();
  }
}

/** up starts the cluster and resolves once it is serving; it rejects (with the reason) if it cannot start. */
export async function up(options: UpOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<UpHost> {
  const reachableAt = clientHost(options.host);
  if (options.instances) {
    const { upInstances } = await import('./up-instances.js');
    // As below: the `kubernetes` Service's endpoints name the front's port, so it is chosen before the instances start.
    const port = options.port || (await freePort(options.host));
    const settings = { ...lifecycleSettings(options), CORACLE_ADVERTISE_ADDRESS: `${advertiseIP(options.host)}:${port}` };
    return upInstances({ ...options, port, instances: options.instances }, settings, reachableAt, out);
  }
  const logger = createLogger();
  const data = await prepareDataDir(options.dataDir, [reachableAt, options.host].filter((h) => h !== '0.0.0.0' && h !== '::'));
  // One cluster per data folder at a time: the release before may still be stopping (its parent killed).
  const unlock = await lockDataDir(data.dir);
  // Node identities go into the token file before the API server reads it.
  const nodeTokens = await ensureNodeTokens(data.tokensFile, localNodeNames(options.nodes));
  // Container logs: Azurite's blob service, under the data folder so logs survive a restart.
  const azurite = await startAzurite({ location: path.join(data.dir, 'azurite') });
  await writeFile(path.join(data.dir, LOGS_CONNECTION_FILE), azurite.connectionString, { mode: 0o600 });
  // The `kubernetes` Service's endpoints name this port, so it is chosen before the host starts.
  const port = options.connections?.port ?? (options.port || (await freePort(options.host)));
  // The app runs in this process: its settings are handed over, not written into process.env.
  // An upgrade's control plane step moves this process onto another release through its caller.
  const onMove = options.onMove;
  useControlPlaneHost(onMove ? localControlPlaneHost(data.dir, APP_DIR, (release) => onMove(release, port)) : undefined);
  // Upgrades add and remove this process's agents (functions/upgrade.ts). The host serves, and may
  // resume an upgrade, before the nodes are back: its steps wait for them.
  let nodesStarted: (provider: NodeProvider) => void = () => undefined;
  let nodesFailed: (err: unknown) => void = () => undefined;
  useNodeProvider(options.nodes > 0 ? awaitedNodeProvider(new Promise<NodeProvider>((resolve, reject) => [nodesStarted, nodesFailed] = [resolve, reject])) : undefined);
  // Its own start-up calls (recordLocalCluster) use a token made for this start, not the admin
  // token, which may be rotated or disabled (coracle admin-token).
  const upToken = randomBytes(32).toString('base64url');
  useAppSettings({ CORACLE_UP_TOKEN: upToken, CORACLE_DATA_DIR: data.dir, CORACLE_STORE: `sqlite:${data.storeFile}`, CORACLE_TOKENS_FILE: data.tokensFile, CORACLE_QUEUE: `sqlite:${path.join(data.dir, 'queue.db')}`, CORACLE_LOGS: azurite.connectionString, CORACLE_ADVERTISE_ADDRESS: `${advertiseIP(options.host)}:${port}`, ...securitySettings(data.dir), ...lifecycleSettings(options) });
  // exec and attach streams, and the agents' tunnels, are served on the same port; the gateway asks the app over HTTPS.
  const apiTransport = createTransport({ caPem: data.ca.cert });
  const streams = createLocalStreamGateway({ resolve: resolverAt(() => `https://${urlHost(reachableAt)}:${port}`, apiTransport.fetch), logger });
  const host = await startLocalHost({
    appDir: APP_DIR,
    port,
    connections: options.connections,
    host: options.host,
    tls: data.serving,
    logger,
    streams,
    // Agents reach the embedded queue here; it is the app context's own queue and tokens (loaded by the time a request comes).
    mounts: [{ prefix: QUEUE_PATH_PREFIX, handler: createQueueServer({
      queue: async () => (await import('../functions/runtime.js')).getWorkQueue(),
      authenticate: async (token) => authenticateToken(token, (await (await import('../functions/runtime.js')).getAppContext()).authenticators),
    }) }],
    // Orchestrations (durable-functions) run on the local durable engine, state in <data>/durable.db.
    durable: { dataDir: data.dir },
    // The change feed reads the very store the app opened (its runtime, loaded by then), not a second connection.
    changeFeedStore: async () => {
      const { store, config } = await (await import('../functions/runtime.js')).getAppContext();
      return { store, cluster: config.cluster };
    },
  }).catch(async (err: unknown) => {
    apiTransport.close();
    await azurite.stop();
    throw err;
  });
  const server = `https://${urlHost(reachableAt)}:${host.port}`;
  await writeKubeconfig(data.kubeconfigFile, { server, caPem: data.ca.cert, token: data.adminToken });
  let nodes: LocalNodes | undefined;
  let engine: NodeEngine | undefined;
  if (options.nodes > 0) {
    engine = await resolveNodeEngine(options.runtime, data.dir);
    if (engine.banner) out(engine.banner);
    if (engine.runtime === 'moby' && engine.dockerHost) out(await sampleImagesLine(engine.dockerHost));
    nodes = await startLocalNodes({
      server, caFile: path.join(data.dir, 'ca.crt'), tokens: nodeTokens, runtime: engine.runtime,
      // Work comes from each node's queue (the change feed's podwork producer), with a periodic full resync in the agent.
      dockerHost: engine.dockerHost, useQueue: true, logsConnectionString: azurite.connectionString,
        // The nodes are kept in the data folder: a restart brings back the same ones at their versions.
        stateFile: path.join(data.dir, 'nodes.json'),
      // Each node runs the agent of its version's release (the running build's, or one from the catalog).
      agentCliFor: (version) => releaseEntry(data.dir, APP_DIR, version),
      // Nodes an upgrade adds get a node credential of their own (the join's NodeCredentialRequest, issued in process).
      issueToken: async (name) => {
        const { getAppContext } = await import('../functions/runtime.js');
        return issueNodeCredential((await getAppContext()).store, name, 'coracle-up', new Date());
      },
    }).catch(async (err: unknown) => {
      nodesFailed(err);
      await host.stop().finally(() => azurite.stop()).finally(() => engine?.stop());
      throw err;
    });
    nodesStarted(nodes.provider);
    out(`coracle: ${nodes.pids.size} node(s) ready (${engine.runtime} runtime): ${[...nodes.pids.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(', ')}`);
    if (engine.runtime === 'moby') out('coracle: try: kubectl run web --image=coracle/web:v1 && kubectl get pods -o wide && kubectl logs web');
  }
  await recordLocalCluster(server, data.ca.cert, upToken, data.dir, options.nodes).catch(async (err: unknown) => {
    await nodes?.stop();
    await host.stop().finally(() => azurite.stop()).finally(() => engine?.stop());
    throw err;
  });
  out(`coracle: cluster ready at ${server} — kubeconfig: ${data.kubeconfigFile} (export KUBECONFIG=${data.kubeconfigFile})`);
  // Orchestrations pause first: an upgrade step still running once the agents stop would act on
  // nodes that are gone (a removal answered as done while nodes.json still brings the node back).
  // Then the agents (their containers keep running); a private dockerd started here stops last.
  const stopNodes = async () => host.pauseOrchestrations().finally(() => nodes?.stop());
  return { url: host.url, port: host.port, stop: (o = {}) => stopNodes().finally(() => host.stop().finally(() => apiTransport.close()).finally(() => azurite.stop()).finally(() => (o.keepEngine ? undefined : engine?.stop())).finally(unlock)) };
}

/**
 * `coracle up --instances N`: the Azure-shaped local cluster. The function app runs as separate
 * host processes split as Flex Consumption splits it (N HTTP instances, one durable, one for the
 * change feed and timers: local/instances.ts) behind one HTTPS front that spreads requests
 * round-robin (local/front.ts), on the Cosmos DB emulator and Azurite instead of SQLite. The
 * durable engine's state and the nodes' embedded work queue are SQLite files in the data folder
 * that every instance opens (see the README, "Azure-shaped local mode", for why).
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { storeFromSettings } from '../functions/runtime.js';
import { startAzurite } from '../local/azurite.js';
import { startCosmosServer } from '../local/cosmos-emulator.js';
import { startFront } from '../local/front.js';
import { createLocalStreamGateway, resolverAt } from '../local/stream-gateway.js';
import { flexInstances, startInstances, type Instances } from '../local/instances.js';
import { createLogger, type Logger } from '../local/logger.js';
import { controlPlaneRelease, keepInstalledRelease, recordControlPlaneRelease, releaseToRun } from '../local/control-plane.js';
import type { ControlPlaneHost } from '../shared/release/control-plane.js';
import { RELEASE_VERSION } from '../shared/release/version.js';
import type { LocalHost } from '../local/host.js';
import { prepareDataDir, securitySettings, STORE_SETTINGS_FILE } from './data-dir.js';
import { writeKubeconfig } from './kubeconfig.js';
import { ensureNodeTokens, localNodeNames, resolveNodeEngine, startLocalNodes, type LocalNodes } from './nodes.js';
import { APP_DIR, LOGS_CONNECTION_FILE, recordLocalCluster, sampleImagesLine, type UpOptions } from './up.js';
import { releaseEntry } from '../local/releases.js';
import { issueNodeCredential } from '../shared/apiserver/tokens.js';
import { awaitedNodeProvider, type NodeProvider } from '../shared/nodes/provider.js';

/**
 * supervisorControlPlaneHost moves the instances onto another release: recorded in the data
 * folder first (a restart of `coracle up` then starts them from it), then restarted one at a time
 * (local/instances.ts). The front, the emulators and the agents — Azure's platform and the nodes,
 * not the function app — stay as they are.
 */
function supervisorControlPlaneHost(dataDir: string, started: () => Instances | undefined, logger: Logger): ControlPlaneHost {
  const instances = (): Instances => {
    const i = started();
    if (!i) throw new Error('the instances are still starting');
    return i;
  };
  let moving: string | undefined;
  return {
    running: async () => {
      const versions = new Set(instances().all.map((i) => i.version()));
      return versions.size === 1 ? [...versions][0] : undefined;
    },
    moveTo: async (version) => {
      if (moving === version) return;
      const release = await releaseToRun(dataDir, APP_DIR, version);
      const running = instances();
      await keepInstalledRelease(dataDir, APP_DIR, RELEASE_VERSION);
      await recordControlPlaneRelease(dataDir, version);
      moving = version;
      logger.info({ release: version }, 'control plane: restarting the instances from the release');
      void running.moveTo(release).then(
        () => logger.info({ release: version }, 'control plane: every instance runs the release'),
        (err: unknown) => logger.error({ err, release: version }, 'control plane: the move failed'),
      ).finally(() => (moving = moving === version ? undefined : moving));
    },
  };
}

/** InstancesHost is what `upInstances` resolves to: the running cluster, as `up` gives it. */
export type InstancesHost = Pick<LocalHost, 'url' | 'port' | 'stop'>;

/**
 * upInstances starts the Azure-shaped cluster and resolves once it serves. `settings` are the app
 * settings `up` derived from its options (watch and node lifecycle); `clientHost` is the address
 * clients use.
 */
export async function upInstances(options: UpOptions & { instances: number }, settings: Record<string, string>, clientHost: string, out: (line: string) => void): Promise<InstancesHost> {
  const logger = createLogger();
  const data = await prepareDataDir(options.dataDir, [clientHost, options.host].filter((h) => h !== '0.0.0.0' && h !== '::'));
  const nodeTokens = await ensureNodeTokens(data.tokensFile, localNodeNames(options.nodes));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => logger.error({ err }, 'stopping failed'));
  };
  try {
    const azurite = await startAzurite({ location: path.join(data.dir, 'azurite') });
    stops.push(() => azurite.stop());
    await writeFile(path.join(data.dir, LOGS_CONNECTION_FILE), azurite.connectionString, { mode: 0o600 });
    // In memory, with every acknowledged write journaled in the data folder and replayed on the next start.
    const cosmos = await startCosmosServer({ journal: path.join(data.dir, 'cosmos.journal') });
    stops.push(() => cosmos.stop());
    // The supervisor's own start-up calls use a token made for this start, not the admin token (which may be disabled).
    const upToken = randomBytes(32).toString('base64url');
    const appSettings: Record<string, string> = {
      ...settings, CORACLE_UP_TOKEN: upToken,
      CORACLE_STORE: 'cosmos', COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: cosmos.key, COSMOS_ENDPOINT_DISCOVERY: 'false',
      CORACLE_DATA_DIR: data.dir, CORACLE_TOKENS_FILE: data.tokensFile, CORACLE_QUEUE: `sqlite:${path.join(data.dir, 'queue.db')}`, CORACLE_LOGS: azurite.connectionString, ...securitySettings(data.dir),
      AzureWebJobsStorage: azurite.connectionString,
    };
    // The database and container are made once, here, before instances race to make them. The
    // store stays open for the node credentials an upgrade's surge nodes get (as `coracle up` issues them).
    const credentials = await storeFromSettings(appSettings);
    stops.push(() => credentials.close());
    // Tools of the data folder (`coracle secrets rotate`) reach the store here while the cluster runs.
    const storeFile = path.join(data.dir, STORE_SETTINGS_FILE);
    await writeFile(storeFile, JSON.stringify({ CORACLE_STORE: 'cosmos', COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: cosmos.key, COSMOS_ENDPOINT_DISCOVERY: 'false', CORACLE_CLUSTER: appSettings.CORACLE_CLUSTER }), { mode: 0o600 });
    stops.push(() => rm(storeFile, { force: true }));
    let nodes: LocalNodes | undefined;
    // The instances serve, and the durable one may resume an upgrade, before the nodes are back: its steps wait for them.
    let nodesStarted: (provider: NodeProvider) => void = () => undefined;
    let nodesFailed: (err: unknown) => void = () => undefined;
    const provider = awaitedNodeProvider(new Promise<NodeProvider>((resolve, reject) => [nodesStarted, nodesFailed] = [resolve, reject]));
    // The instances run the release the data folder records (an upgrade moved the control plane), else this build.
    const recorded = await controlPlaneRelease(data.dir);
    const release = recorded && recorded !== RELEASE_VERSION ? await releaseToRun(data.dir, APP_DIR, recorded) : { version: RELEASE_VERSION, root: APP_DIR };
    const started: { instances?: Instances } = {};
    const controlPlane = supervisorControlPlaneHost(data.dir, () => started.instances, logger);
    const instances = await startInstances({
      specs: flexInstances(options.instances), settings: appSettings, release, dataDir: data.dir,
      durableKey: randomBytes(24).toString('base64url'), logger,
      // Upgrades add and remove this process's agents from the durable instance, and move the
      // instances themselves onto another release (local/supervisor-ipc.ts).
      nodeProvider: options.nodes > 0 ? () => provider : undefined,
      controlPlane: () => controlPlane,
    });
    started.instances = instances;
    stops.push(() => instances.stop());
    const http = instances.all.filter((i) => i.spec.groups.includes('http')).map((i) => i.url);
    // The stream gateway sits in the front, as on Azure beside the function app; it asks the HTTP instances in turn.
    let nextBackend = 0;
    const streams = createLocalStreamGateway({ resolve: resolverAt(() => http[nextBackend++ % http.length]!, (request) => fetch(request)), logger });
    const front = await startFront({ backends: http, port: options.port, host: options.host, tls: data.serving, streams });
    stops.push(() => front.stop());
    const server = `https://${clientHost.includes(':') ? `[${clientHost}]` : clientHost}:${front.port}`;
    await writeKubeconfig(data.kubeconfigFile, { server, caPem: data.ca.cert, token: data.adminToken });
    out(`coracle: ${instances.all.length} host processes: ${instances.all.map((i) => `${i.spec.name} (pid ${i.pid()}, ${i.url})`).join(', ')}`);
    if (options.nodes > 0) {
      const engine = await resolveNodeEngine(options.runtime, data.dir);
      stops.push(async () => engine.stop?.());
      if (engine.banner) out(engine.banner);
      if (engine.runtime === 'moby' && engine.dockerHost) out(await sampleImagesLine(engine.dockerHost));
      nodes = await startLocalNodes({
        server, caFile: path.join(data.dir, 'ca.crt'), tokens: nodeTokens, runtime: engine.runtime,
        dockerHost: engine.dockerHost, useQueue: true, logsConnectionString: azurite.connectionString,
        // The nodes are kept in the data folder: a restart brings back the same ones at their versions.
        stateFile: path.join(data.dir, 'nodes.json'),
        // As in the single-process mode: each node runs its version's release; nodes an upgrade adds get their own credential.
        agentCliFor: (version) => releaseEntry(data.dir, APP_DIR, version),
        issueToken: (name) => issueNodeCredential(credentials, name, 'coracle-up', new Date()),
      }).catch((err: unknown) => {
        nodesFailed(err);
        throw err;
      });
      nodesStarted(nodes.provider);
      // The instances stop before the agents, as `coracle up` pauses its orchestrations first: an
      // upgrade step of the durable instance must not run against agents already stopped.
      stops.push(async () => instances.stop().finally(() => nodes?.stop()));
      out(`coracle: ${nodes.pids.size} node(s) ready (${engine.runtime} runtime): ${[...nodes.pids.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(', ')}`);
    }
    await recordLocalCluster(server, data.ca.cert, upToken, data.dir, options.nodes);
    out(`coracle: cluster ready at ${server} — kubeconfig: ${data.kubeconfigFile} (export KUBECONFIG=${data.kubeconfigFile})`);
    return { url: server, port: front.port, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

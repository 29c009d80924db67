/**
 * Choosing and building a node's Runtime: `simulated` (hollow pods) or `moby` (the Docker Engine
 * API). The moby adapter and the blob log sink are loaded lazily, so simulated and hollow agents
 * never load Docker or Azure code.
 */
import http from 'node:http';
import os from 'node:os';
import type { Runtime } from './runtime/runtime.js';
import type { EnvSources } from './runtime/env.js';
import { createSimulatedRuntime } from './runtime/simulated/index.js';
import type { LogSink } from '../shared/logs/logsink.js';
import type { PodNetworkOptions } from './runtime/moby/podnet.js';

/** RuntimeKind names a runtime adapter. */
export type RuntimeKind = 'moby' | 'simulated';

/** RuntimeSettings are what either adapter may need. */
export interface RuntimeSettings {
  kind: RuntimeKind;
  nodeName: string;
  hostIP: string;
  /** The agent's EnvSources (ConfigMaps and Secrets through the API). */
  env: EnvSources;
  /** Docker endpoint, `unix:///path` (default: DOCKER_HOST, else /var/run/docker.sock). */
  dockerHost?: string;
  /** Blob Storage connection string for container logs (moby; without it, and without `logsAccountUrl`, logs stay in the engine). */
  logsConnectionString?: string;
  /** Or the logs' blob account URL, signed with the node's managed identity (`clientId`: a user-assigned one). */
  logsAccountUrl?: { accountUrl: string; identity: { clientId?: string } };
  /** moby: the cluster DNS pods resolve through. */
  clusterDNS?: { nameserver: string; domain: string };
  /** moby: `name:address` entries every sandbox's /etc/hosts gets (a named API server, agent/apiserver-name.ts). */
  extraHosts?: readonly string[];
  /** moby on a VM node: pods on a bridge of the Node's pod CIDR (agent/runtime/moby/podnet.ts). */
  podNetwork?: PodNetworkOptions;
  /** Simulated: delay before a created pod runs (ms). */
  startDelayMs?: number;
  log?: (message: string) => void;
}

/** BuiltRuntime is a runtime, the version string the Node reports, and how to release it all. */
export interface BuiltRuntime {
  runtime: Runtime;
  version: string;
  /** close closes the runtime (containers keep running) and flushes the log sink. */
  close(): Promise<void>;
}

/** dockerSocketPath resolves a `unix://` Docker host (or DOCKER_HOST, or the default socket). */
export function dockerSocketPath(dockerHost = process.env.DOCKER_HOST): string {
  if (!dockerHost) return '/var/run/docker.sock';
  if (!dockerHost.startsWith('unix://')) throw new Error(`docker host ${dockerHost}: only unix:// sockets are supported`);
  return dockerHost.slice('unix://'.length);
}

/** engineVersion asks the engine on `socketPath` for its version (`20.10.24`); rejects when none answers. */
export function engineVersion(socketPath: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: '/version', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(String((JSON.parse(body) as { Version?: string }).Version ?? 'unknown'));
        } catch (err) {
          reject(new Error(`the Docker engine at ${socketPath} answered /version with ${res.statusCode}: ${(err as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from the Docker engine at ${socketPath} in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** logSinkOf builds the container log sink the settings name (connection string, or account URL with the node's identity), if any. */
async function logSinkOf(settings: RuntimeSettings): Promise<LogSink | undefined> {
  if (!settings.logsConnectionString && !settings.logsAccountUrl) return undefined;
  const { createBlobLogSink } = await import('../adapters/logs/blob/index.js');
  if (settings.logsConnectionString) return createBlobLogSink({ connectionString: settings.logsConnectionString });
  const { azureCredential } = await import('../adapters/identity.js');
  return createBlobLogSink({ accountUrl: settings.logsAccountUrl!.accountUrl, credential: await azureCredential(settings.logsAccountUrl!.identity) });
}

/** createRuntime builds the runtime `settings.kind` names. */
export async function createRuntime(settings: RuntimeSettings): Promise<BuiltRuntime> {
  if (settings.kind === 'simulated') {
    const runtime = createSimulatedRuntime({ nodeName: settings.nodeName, hostIP: settings.hostIP, startDelayMs: settings.startDelayMs });
    return { runtime, version: 'simulated://0.1.0', close: () => runtime.close() };
  }
  const socketPath = dockerSocketPath(settings.dockerHost);
  const version = await engineVersion(socketPath);
  const { createMobyRuntime } = await import('./runtime/moby/index.js');
  const logSink = await logSinkOf(settings);
  const runtime = createMobyRuntime({
    socketPath, nodeName: settings.nodeName, hostIP: settings.hostIP, envSources: settings.env, logSink, clusterDNS: settings.clusterDNS, podNetwork: settings.podNetwork, extraHosts: settings.extraHosts,
    log: settings.log && ((m, err) => settings.log!(err ? `${m}: ${(err as Error).message ?? String(err)}` : m)),
  });
  return {
    runtime, version: `docker://${version}`,
    async close() {
      await runtime.close();
      await logSink?.close?.();
    },
  };
}

/** machineIP is the first non-internal IPv4 address of this machine (127.0.0.1 if none). */
export function machineIP(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

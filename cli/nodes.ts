/**
 * Local nodes for `coracle up --nodes N`: node identities in the token file (user
 * `system:node:<name>`, group `system:nodes`, one token each, kept across restarts), the runtime
 * choice (moby when a Docker engine answers, else simulated, said in a banner line), and N
 * `coracle agent` child processes that stop with `coracle up`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODES_GROUP, nodeUserName } from '../shared/apiserver/authorize.js';

/** AGENT_CLI is the built `coracle` entry the agents run. */
const AGENT_CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), 'coracle.js');

/** localNodeNames are the names of `count` local nodes: node-1 … node-N. */
export function localNodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `node-${i + 1}`);
}

/**
 * ensureNodeTokens returns each node's token from the token file, appending a line
 * `token,system:node:<name>,<name>,"system:nodes"` for nodes that have none.
 */
export async function ensureNodeTokens(tokensFile: string, names: readonly string[]): Promise<Map<string, string>> {
  const text = await readFile(tokensFile, 'utf8');
  // token,user,uid,"groups": the first two fields never hold commas. (functions/runtime.ts parses
  // the whole format, but importing it here would register the app's hooks in the CLI.)
  const byUser = new Map(text.split(/\r?\n/).map((line) => line.split(',')).filter((f) => f.length >= 2).map((f) => [f[1].trim(), f[0].trim()]));
  const tokens = new Map<string, string>();
  let added = '';
  for (const name of names) {
    let token = byUser.get(nodeUserName(name));
    if (!token) {
      token = randomBytes(32).toString('base64url');
      added += `${token},${nodeUserName(name)},${name},"${NODES_GROUP}"\n`;
    }
    tokens.set(name, token);
  }
  if (added) await appendFile(tokensFile, text.endsWith('\n') || text === '' ? added : `\n${added}`);
  return tokens;
}

/** LocalNodesOptions say what the agents connect to and how they run pods. */
export interface LocalNodesOptions {
  server: string;
  caFile: string;
  tokens: ReadonlyMap<string, string>;
  runtime: 'moby' | 'simulated';
  /** moby: the engine (`unix:///…`). */
  dockerHost?: string;
  /** Take work from the embedded queue at the server (else each agent watches its pods). */
  useQueue: boolean;
  /** Blob connection string for container logs (moby). */
  logsConnectionString?: string;
  /** More `coracle agent` arguments. */
  extraArgs?: string[];
  /** How long to wait for every node's ready line (default 60 s). */
  readyTimeoutMs?: number;
}

/** LocalNodes are running agent processes. */
export interface LocalNodes {
  /** pids by node name (tests kill them). */
  pids: ReadonlyMap<string, number>;
  /** stop sends SIGTERM to every agent and waits (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function spawnAgent(name: string, token: string, o: LocalNodesOptions): { child: ChildProcess; ready: Promise<void> } {
  const args = [AGENT_CLI, 'agent', '--node-name', name, '--server', o.server, '--ca-file', o.caFile, '--runtime', o.runtime,
    ...(o.dockerHost ? ['--docker-host', o.dockerHost] : []), ...(o.useQueue ? ['--queue-url', o.server] : []), ...(o.extraArgs ?? [])];
  const env = { ...process.env, CORACLE_AGENT_TOKEN: token, ...(o.logsConnectionString ? { CORACLE_LOGS: o.logsConnectionString } : {}) };
  // The IPC channel is the agent's tie to this process: it closes when `coracle up` dies, and the agent stops.
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(`agent ${name}: ready`)) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`the agent of ${name} exited (${code ?? signal}) before it was ready`)));
  });
  ready.catch(() => undefined);
  return { child, ready };
}

/** startLocalNodes starts one agent per token and resolves once every node registered. */
export async function startLocalNodes(o: LocalNodesOptions): Promise<LocalNodes> {
  const children = new Map<string, ChildProcess>();
  const stop = async () => {
    await Promise.all([...children.values()].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited(child);
      clearTimeout(timer);
    }));
  };
  const readies: Promise<void>[] = [];
  for (const [name, token] of o.tokens) {
    const { child, ready } = spawnAgent(name, token, o);
    children.set(name, child);
    readies.push(ready);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the nodes were not ready in ${o.readyTimeoutMs ?? 60_000} ms`)), o.readyTimeoutMs ?? 60_000);
  });
  try {
    await Promise.race([Promise.all(readies), timeout]);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { pids: new Map([...children].map(([n, c]) => [n, c.pid ?? 0])), stop };
}

/** chooseNodeRuntime picks moby when asked or when an engine answers (socket given), else simulated. */
export function chooseNodeRuntime(requested: 'moby' | 'simulated' | undefined, engineSocket: string | undefined): { runtime: 'moby' | 'simulated'; banner?: string } {
  if (requested === 'simulated') return { runtime: 'simulated' };
  if (requested === 'moby' || engineSocket) return { runtime: 'moby' };
  return { runtime: 'simulated', banner: 'coracle: no Docker engine is reachable: nodes are SIMULATED (pods run no containers); start Docker and use --runtime moby for real containers' };
}

/** NodeEngine is the runtime the local nodes use, and the private dockerd started for them (if any). */
export interface NodeEngine {
  runtime: 'moby' | 'simulated';
  dockerHost?: string;
  banner?: string;
  /** stop ends a private dockerd started here (containers end with it); nothing otherwise. */
  stop(): Promise<void>;
}

/**
 * resolveNodeEngine finds a Docker engine (DOCKER_HOST or /var/run/docker.sock); failing that, as
 * root with `dockerd` installed, starts a private one under `<dataDir>/dockerd`; failing that,
 * nodes are simulated (with a banner). `--runtime simulated` skips all of it.
 */
export async function resolveNodeEngine(requested: 'moby' | 'simulated' | undefined, dataDir: string): Promise<NodeEngine> {
  const none = async () => undefined;
  if (requested === 'simulated') return { runtime: 'simulated', stop: none };
  const { findDockerEngine, findDockerd, startPrivateDockerd } = await import('../local/dockerd.js');
  const engine = await findDockerEngine();
  if (engine) return { runtime: 'moby', dockerHost: `unix://${engine}`, stop: none };
  if (findDockerd() && process.getuid?.() === 0) {
    try {
      const dockerd = await startPrivateDockerd(path.join(dataDir, 'dockerd'));
      return {
        runtime: 'moby', dockerHost: `unix://${dockerd.socketPath}`, stop: () => dockerd.stop(),
        banner: `coracle: nodes run containers on a private dockerd (${dockerd.socketPath}); docker CLI: DOCKER_HOST=unix://${dockerd.socketPath} docker ps`,
      };
    } catch (err) {
      if (requested === 'moby') throw err;
      const choice = chooseNodeRuntime(undefined, undefined);
      return { ...choice, banner: `${choice.banner} (a private dockerd did not start: ${(err as Error).message})`, stop: none };
    }
  }
  if (requested === 'moby') throw new Error('--runtime moby: no Docker engine answers (DOCKER_HOST or /var/run/docker.sock), and no private dockerd can be started (needs root and dockerd)');
  return { ...chooseNodeRuntime(undefined, undefined), stop: none };
}

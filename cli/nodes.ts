/**
 * Local nodes for `coracle up --nodes N`: node identities in the token file (user
 * `system:node:<name>`, group `system:nodes`, one token each, kept across restarts), the runtime
 * choice (moby when a Docker engine answers, else simulated, said in a banner line), and N
 * `coracle agent` child processes (the local NodeProvider, adapters/nodes/local.ts) that stop
 * with `coracle up`.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalNodeProvider, readNodeState, type LocalAgentOptions } from '../adapters/nodes/local.js';
import { AGENT_VERSION } from '../agent/node.js';
import { NODES_GROUP, nodeUserName } from '../shared/apiserver/authorize.js';
import type { NodeProvider } from '../shared/nodes/provider.js';

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

/** LocalNodesOptions say what the agents connect to, how they run pods, and each node's token. */
export interface LocalNodesOptions extends Omit<LocalAgentOptions, 'tokenFor'> {
  /** Node names and their tokens: the names must be localNodeNames(n) (pool `node`). */
  tokens: ReadonlyMap<string, string>;
  /** A credential for a node added later (an upgrade's surge node), which has no token in the file. */
  issueToken?: (name: string) => Promise<string>;
}

/** LocalNodes are running agent processes. */
export interface LocalNodes {
  /** pids by node name (tests kill them). */
  pids: ReadonlyMap<string, number>;
  /** The provider running them, which an upgrade uses to add and remove nodes. */
  provider: NodeProvider;
  /** stop sends SIGTERM to every agent and waits (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/** LOCAL_POOL is the pool of `coracle up`'s nodes: its nodes are node-1 … node-N. */
export const LOCAL_POOL = 'node';

/**
 * startLocalNodes starts one agent per token through the local NodeProvider and resolves once
 * every node registered; if one fails or is not ready in time, all are stopped and it throws.
 */
export async function startLocalNodes(o: LocalNodesOptions): Promise<LocalNodes> {
  const provider = new LocalNodeProvider({
    ...o,
    tokenFor: (name) => {
      const token = o.tokens.get(name);
      if (token) return token;
      if (!o.issueToken) throw new Error(`no token for node ${name}`);
      return o.issueToken(name);
    },
  });
  // A data folder that ran nodes before brings the same ones back, at their versions (an upgrade
  // may have replaced some); more nodes of pool `node` are added only up to the count asked for.
  const kept = o.stateFile ? readNodeState(o.stateFile) : [];
  try {
    await provider.restore(kept);
    const missing = Math.max(0, o.tokens.size - kept.filter((n) => n.pool === LOCAL_POOL).length);
    const results = await Promise.allSettled(Array.from({ length: missing }, () => provider.add(LOCAL_POOL, AGENT_VERSION)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await provider.close();
    throw err;
  }
  return { pids: provider.pids(), provider, stop: () => provider.close() };
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

/**
 * The NodeProvider on one machine: each node is a `coracle agent` child process (what
 * `coracle up --nodes N` starts). A pool's nodes are named `<pool>-<n>` with the lowest free n
 * (pool `node` gives node-1, node-2, … as before). `replace` stops the agent and starts a fresh
 * one under the same name; its containers are left to the new agent to adopt (a local "machine"
 * has no disk to wipe). With `agentCliFor` (the release catalog, local/releases.ts) a node runs
 * the agent of its `version`'s release package; without it every version runs the one build.
 * With `stateFile` the provider keeps its nodes (name, pool, version) on disk, written before an
 * agent starts or stops: the agents die with `coracle up`, and the next start brings the same
 * nodes back at their versions (`restore`) — an upgrade interrupted by a crash finds the nodes it
 * had already moved where it left them.
 *
 * Once closed (its `coracle up` stopping), the provider refuses every call with Unavailable:
 * its agents are stopped but still recorded, so a `remove` answered then as if the node were
 * already gone would leave the state file bringing it back at the next start (a step of an
 * upgrade still running in the stopping process did exactly that); the caller retries later.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTextIfExistsSync } from '../../local/files.js';
import { checkPoolName, NodeProviderError, type NodeProvider, type ProvidedNode } from '../../shared/nodes/provider.js';

/** AGENT_CLI is the built `coracle` entry the agents run. */
const AGENT_CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'coracle.js');

/** LocalAgentOptions say what the agents connect to and how they run pods. */
export interface LocalAgentOptions {
  server: string;
  caFile: string;
  /** The bearer token of node `name` (its identity in the token file). */
  tokenFor(name: string): string | Promise<string>;
  runtime: 'moby' | 'simulated';
  /** moby: the engine (`unix:///…`). */
  dockerHost?: string;
  /** Take work from the embedded queue at the server (else each agent watches its pods). */
  useQueue: boolean;
  /** Blob connection string for container logs (moby). */
  logsConnectionString?: string;
  /** More `coracle agent` arguments. */
  extraArgs?: string[];
  /** How long to wait for an agent's ready line (default 60 s). */
  readyTimeoutMs?: number;
  /** The built `coracle` entry (default: the one beside this module in dist/; tests running sources pass it). */
  agentCli?: string;
  /** The `coracle` entry of release `version` (the release catalog's); absent: every version runs `agentCli`. */
  agentCliFor?: (version: string) => Promise<string>;
  /** Where the nodes are kept across restarts (see the file comment); absent: nowhere. */
  stateFile?: string;
}

/** RecordedNode is one node as the state file keeps it. */
export interface RecordedNode {
  name: string;
  pool: string;
  version: string;
}

/** readNodeState reads a provider's state file ([] when there is none). */
export function readNodeState(file: string): RecordedNode[] {
  const text = readTextIfExistsSync(file);
  if (text === undefined) return [];
  const parsed = JSON.parse(text) as { nodes?: unknown };
  if (!Array.isArray(parsed.nodes)) throw new Error(`${file}: no "nodes" list`);
  return parsed.nodes.filter((n): n is RecordedNode => typeof n === 'object' && n !== null && typeof n.name === 'string' && typeof n.pool === 'string' && typeof n.version === 'string');
}

interface LocalNode {
  pool: string;
  version: string;
  child: ChildProcess;
}

/** exited resolves when the child has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** stopChild sends SIGTERM and waits for the exit, with SIGKILL after 15 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited(child);
  clearTimeout(timer);
}

function spawnAgent(name: string, token: string, o: LocalAgentOptions, cli: string): { child: ChildProcess; ready: Promise<void> } {
  const args = [cli, 'agent', '--node-name', name, '--server', o.server, '--ca-file', o.caFile, '--runtime', o.runtime,
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

/** LocalNodeProvider runs each node as a `coracle agent` child process; see the file's comment. */
export class LocalNodeProvider implements NodeProvider {
  private readonly nodes = new Map<string, LocalNode>();
  /** Names handed out by an add still starting (so concurrent adds pick distinct names). */
  private readonly reserved = new Set<string>();
  /** What the state file holds: the nodes that should run (written before agents start or stop). */
  private readonly recorded = new Map<string, { pool: string; version: string }>();
  /** Set by close(): the agents are stopping, and every later call is refused. */
  private closed = false;

  constructor(private readonly options: LocalAgentOptions) {}

  /** refuseIfClosed throws Unavailable once close() was called (see the file's comment). */
  private refuseIfClosed(): void {
    if (this.closed) throw new NodeProviderError('Unavailable', 'the local nodes are stopping (coracle up is stopping or handing over); try again once it runs again');
  }

  /** record changes the kept set and writes it (a temporary file renamed over the old one). */
  private record(name: string, node: { pool: string; version: string } | undefined): void {
    if (node) this.recorded.set(name, node);
    else this.recorded.delete(name);
    const file = this.options.stateFile;
    if (!file) return;
    const nodes = [...this.recorded].map(([n, r]) => ({ name: n, pool: r.pool, version: r.version }));
    writeFileSync(`${file}.tmp`, `${JSON.stringify({ nodes }, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  /** restore starts the nodes a state file recorded, each under its name, in its pool, at its version. */
  async restore(nodes: readonly RecordedNode[]): Promise<ProvidedNode[]> {
    this.refuseIfClosed();
    for (const n of nodes) {
      checkPoolName(n.pool);
      this.reserved.add(n.name);
    }
    try {
      return await Promise.all(nodes.map(async (n) => {
        this.record(n.name, { pool: n.pool, version: n.version });
        return this.start(n.name, n.pool, n.version);
      }));
    } finally {
      for (const n of nodes) this.reserved.delete(n.name);
    }
  }

  /** pids returns each running agent's process id by node name (tests kill them). */
  pids(): Map<string, number> {
    return new Map([...this.nodes].map(([name, node]) => [name, node.child.pid ?? 0]));
  }

  async list(pool: string): Promise<ProvidedNode[]> {
    this.refuseIfClosed();
    return [...this.nodes].filter(([, n]) => n.pool === pool).map(([name, n]) => this.describe(name, n));
  }

  async add(pool: string, version: string): Promise<ProvidedNode> {
    this.refuseIfClosed();
    checkPoolName(pool);
    let index = 1;
    while (this.nodes.has(`${pool}-${index}`) || this.reserved.has(`${pool}-${index}`)) index++;
    const name = `${pool}-${index}`;
    this.reserved.add(name);
    this.record(name, { pool, version });
    try {
      return await this.start(name, pool, version);
    } catch (err) {
      this.record(name, undefined);
      throw err;
    } finally {
      this.reserved.delete(name);
    }
  }

  async replace(pool: string, name: string, version: string): Promise<ProvidedNode> {
    this.refuseIfClosed();
    const node = this.nodes.get(name);
    if (!node || node.pool !== pool) throw new NodeProviderError('NotFound', `node ${name} is not in pool ${pool}`);
    this.nodes.delete(name);
    this.record(name, { pool, version });
    await stopChild(node.child);
    return this.start(name, pool, version);
  }

  async remove(pool: string, name: string): Promise<void> {
    this.refuseIfClosed();
    const node = this.nodes.get(name);
    if (!node || node.pool !== pool) return;
    this.nodes.delete(name);
    this.record(name, undefined);
    await stopChild(node.child);
  }

  /** close stops every agent; the state file keeps them for the next start. Later calls are refused (Unavailable). */
  async close(): Promise<void> {
    this.closed = true;
    const children = [...this.nodes.values()].map((n) => n.child);
    this.nodes.clear();
    await Promise.all(children.map(stopChild));
  }

  /** start spawns the agent of `name` and resolves once it printed its ready line. */
  private async start(name: string, pool: string, version: string): Promise<ProvidedNode> {
    const cli = this.options.agentCliFor ? await this.options.agentCliFor(version) : this.options.agentCli ?? AGENT_CLI;
    const token = await this.options.tokenFor(name);
    // Closed while those were read: an agent started now would be one close() never stops.
    this.refuseIfClosed();
    const { child, ready } = spawnAgent(name, token, this.options, cli);
    const node = { pool, version, child };
    this.nodes.set(name, node);
    const timeoutMs = this.options.readyTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the agent of ${name} was not ready in ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([ready, timeout]);
    } catch (err) {
      this.nodes.delete(name);
      await stopChild(child);
      throw new NodeProviderError('Unavailable', (err as Error).message, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    return this.describe(name, node);
  }

  private describe(name: string, n: LocalNode): ProvidedNode {
    const alive = n.child.exitCode === null && n.child.signalCode === null;
    return { name, pool: n.pool, version: n.version, state: alive ? 'running' : 'failed', providerId: `local://${n.child.pid ?? 0}` };
  }
}

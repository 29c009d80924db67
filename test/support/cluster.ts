/**
 * A local cluster for end-to-end suites: runs the built CLI (`node dist/cli/coracle.js up`) in a
 * temporary data folder on a free port, waits for its ready line, and hands back what a client
 * needs (URL, kubeconfig, token, CA). `npm test` builds dist/ before jest runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** REPO_ROOT is the repository (the package root holding dist/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** CLI is the built `coracle` command. */
export const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'coracle.js');

const READY_LINE = /cluster ready at (https:\/\/\S+) — kubeconfig: (\S+)/;

/** ExitStatus is how the cluster process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Cluster is a running local cluster. */
export interface Cluster {
  url: string;
  kubeconfigPath: string;
  /** The admin user's bearer token. */
  token: string;
  /** The cluster CA (PEM), for verifying the server. */
  caPem: string;
  dataDir: string;
  /** Everything the process wrote to stderr so far (logs, errors). */
  stderr(): string;
  /** Everything the process wrote to stdout so far (its banner lines). */
  stdout(): string;
  /** stop sends SIGTERM and waits for the exit; the data folder stays. */
  stop(): Promise<ExitStatus>;
  /** kill sends `signal` and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<ExitStatus>;
  /** restart stops the process if running and starts it again on the same data folder and port. */
  restart(): Promise<void>;
  /** destroy stops the process and removes the data folder. */
  destroy(): Promise<void>;
}

/** StartClusterOptions tune startCluster. */
export interface StartClusterOptions {
  nodes?: number;
  /** More `coracle up` arguments. */
  extraArgs?: string[];
  /** Use this data folder instead of a fresh temporary one. */
  dataDir?: string;
  /** Milliseconds to wait for the ready line (default 30 000). */
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** UpProcess is one run of `coracle up`. */
export interface UpProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<ExitStatus>;
  /** Resolves with the ready line's URL and kubeconfig path; rejects if the process exits first. */
  ready: Promise<{ url: string; kubeconfigPath: string }>;
}

/** spawnUp runs `coracle up` with `args` and watches for its ready line. */
export function spawnUp(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): UpProcess {
  const child = spawn(process.execPath, [CLI, 'up', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<{ url: string; kubeconfigPath: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coracle up was not ready in ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = READY_LINE.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, kubeconfigPath: m[2]! });
      }
    });
    void exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`coracle up exited (${status.code ?? status.signal}) before it was ready; stderr:\n${err}`));
    });
  });
  ready.catch(() => undefined);
  return { child, stdout: () => out, stderr: () => err, exited, ready };
}

/**
 * E2E_INSTANCES is `CORACLE_E2E_INSTANCES` (a count, or unset): when set, every suite's
 * `startCluster` runs `coracle up --instances N` (the Azure-shaped mode) unless the suite already
 * chose its own `--instances`. `CORACLE_E2E_INSTANCES=3 npx jest test/drain-kubectl.test.ts` runs
 * an existing suite unchanged against three HTTP instances.
 */
export const E2E_INSTANCES = process.env.CORACLE_E2E_INSTANCES ? Number(process.env.CORACLE_E2E_INSTANCES) : undefined;

/** startCluster starts `coracle up` in a temporary (or given) data folder on a free port. */
export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'coracle-e2e-')));
  const extraArgs = options.extraArgs ?? [];
  const instancesArgs = E2E_INSTANCES && !extraArgs.includes('--instances') ? ['--instances', String(E2E_INSTANCES)] : [];
  const baseArgs = ['--data-dir', dataDir, ...(options.nodes !== undefined ? ['--nodes', String(options.nodes)] : []), ...extraArgs, ...instancesArgs];
  // Five host processes and the emulators take longer to start than one process.
  const timeoutMs = instancesArgs.length > 0 ? Math.max(options.timeoutMs ?? 30_000, 180_000) : options.timeoutMs;
  let port = '0';
  let proc: UpProcess;
  const start = async () => {
    proc = spawnUp(['--port', port, ...baseArgs], options.env, timeoutMs);
    const ready = await proc.ready.catch((err: unknown) => {
      // A start that failed leaves nobody holding the process: stop it, or it outlives the suite (and keeps Jest from exiting).
      proc.child.kill('SIGTERM');
      throw err;
    });
    port = new URL(ready.url).port;
    return ready;
  };
  const first = await start();
  const caPem = await readFile(path.join(dataDir, 'ca.crt'), 'utf8');
  const token = (await readFile(path.join(dataDir, 'tokens.csv'), 'utf8')).split(',')[0]!;
  const signal = async (sig: NodeJS.Signals) => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(sig);
    return proc.exited;
  };
  const cluster: Cluster = {
    url: first.url,
    kubeconfigPath: first.kubeconfigPath,
    token,
    caPem,
    dataDir,
    stderr: () => proc.stderr(),
    stdout: () => proc.stdout(),
    stop: () => signal('SIGTERM'),
    kill: signal,
    restart: async () => {
      await signal('SIGTERM');
      await start();
    },
    destroy: async () => {
      await signal('SIGTERM');
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** ClusterResponse is a buffered HTTPS response. */
export interface ClusterResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** clusterRequest sends one HTTPS request to the cluster, verifying its certificate with the cluster CA. */
export function clusterRequest(
  cluster: Pick<Cluster, 'url' | 'caPem'>,
  pathAndQuery: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; token?: string } = {},
): Promise<ClusterResponse> {
  const headers = { ...init.headers, ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) };
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(pathAndQuery, cluster.url), { method: init.method ?? 'GET', headers, ca: cluster.caPem }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** HollowNodes is a `coracle agent --hollow K` process: K simulated nodes renewing their Leases. */
export interface HollowNodes {
  /** The node names: `<prefix>-1` … `<prefix>-K`. */
  names: string[];
  pid: number;
  stop(): Promise<ExitStatus>;
}

/**
 * startHollowNodes runs `count` hollow nodes (simulated runtime, KWOK-style) of `podsPerNode`
 * pod capacity in one agent process against `cluster`, authenticated with the admin token, and
 * resolves once all have registered.
 */
export async function startHollowNodes(cluster: Pick<Cluster, 'url' | 'dataDir' | 'token'>, count: number, podsPerNode = 110, prefix = 'hollow'): Promise<HollowNodes> {
  const args = [CLI, 'agent', '--hollow', String(count), '--pods', String(podsPerNode), '--node-name', prefix, '--server', cluster.url,
    '--ca-file', path.join(cluster.dataDir, 'ca.crt'), '--runtime', 'simulated'];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, CORACLE_AGENT_TOKEN: cluster.token }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-5000); });
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/ready \(\d+ hollow nodes\)/.test(out)) resolve();
    });
    void exited.then((s) => reject(new Error(`hollow agent exited (${s.code ?? s.signal}) before it was ready: ${err}`)));
  });
  return {
    names: Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`),
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

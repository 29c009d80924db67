/**
 * A private Docker daemon for the local cluster and the tests: `dockerd` with its own data root,
 * exec root, socket, pid file and network bridge under one folder, so it never touches (or is
 * touched by) a system daemon or another private one. Needs root and Debian's `docker.io`.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve, delimiter } from 'node:path';
import { processAlive } from './files.js';

/** DockerdErrorReason classifies why a private daemon could not start. */
export type DockerdErrorReason = 'NotInstalled' | 'NotRoot' | 'StartFailed';

/** DockerdError is what startPrivateDockerd throws; `reason` says which precondition failed. */
export class DockerdError extends Error {
  constructor(readonly reason: DockerdErrorReason, message: string) {
    super(message);
    this.name = 'DockerdError';
  }
}

/** PrivateDockerd is a running private daemon. */
export interface PrivateDockerd {
  socketPath: string;
  /** True when an already running daemon under the same folder was reused. */
  reused: boolean;
  /** The bridge containers attach to, and its gateway address (the node's address seen from pods). */
  bridge: { name: string; gateway: string };
  /** stop ends the daemon (SIGTERM, then SIGKILL after 20 s) and removes its bridge. */
  stop(): Promise<void>;
}

/** PrivateDockerdOptions tune startPrivateDockerd. */
export interface PrivateDockerdOptions {
  /** How long to wait for the daemon to answer (default 30 s). */
  startTimeoutMs?: number;
}

/** pingDocker answers whether a Docker engine answers `/_ping` on this unix socket. */
export function pingDocker(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((done) => {
    if (!existsSync(socketPath)) return done(false);
    const req = request({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('error', () => done(false));
    req.on('timeout', () => {
      req.destroy();
      done(false);
    });
    req.end();
  });
}

/**
 * findDockerEngine returns the socket of a reachable Docker engine: `DOCKER_HOST` (unix:// only)
 * when set, else /var/run/docker.sock; undefined when none answers.
 */
export async function findDockerEngine(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const host = env.DOCKER_HOST;
  const socketPath = host ? (host.startsWith('unix://') ? host.slice('unix://'.length) : undefined) : '/var/run/docker.sock';
  if (!socketPath) return undefined;
  return (await pingDocker(socketPath)) ? socketPath : undefined;
}

/** findDockerd returns the path of the `dockerd` binary, or undefined when it is not installed. */
export function findDockerd(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, 'dockerd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** bridgeNameFor names the folder's bridge: stable per folder, at most 15 characters (Linux's limit). */
export function bridgeNameFor(dir: string): string {
  return `crc${createHash('sha1').update(resolve(dir)).digest('hex').slice(0, 10)}`;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** ensureBridge creates the bridge with a free 10.213.N.0/24 subnet unless it exists; returns its gateway. */
function ensureBridge(name: string): string {
  const existing = ip('-o', '-4', 'addr', 'show').split('\n');
  const own = existing.find((line) => line.split(/\s+/)[1] === name);
  if (own) return own.split(/\s+/)[3].split('/')[0];
  const used = new Set(existing.map((line) => line.split(/\s+/)[3]).filter(Boolean).map((cidr) => cidr.split('.').slice(0, 3).join('.')));
  const start = parseInt(name.slice(3, 7), 16) % 250;
  for (let i = 0; i < 250; i++) {
    const prefix = `10.213.${((start + i) % 250) + 1}`;
    if (used.has(prefix)) continue;
    if (!existing.some((line) => line.split(/\s+/)[1] === name)) {
      try {
        ip('link', 'add', name, 'type', 'bridge');
      } catch {
        // created by a concurrent start: fall through to address it
      }
    }
    ip('addr', 'add', `${prefix}.1/24`, 'dev', name);
    ip('link', 'set', name, 'up');
    return `${prefix}.1`;
  }
  throw new DockerdError('StartFailed', 'no free 10.213.N.0/24 subnet for the private bridge');
}

function removeBridge(name: string): void {
  try {
    ip('link', 'del', name);
  } catch {
    // already gone
  }
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopDaemon(pidFile: string, bridge: string): Promise<void> {
  const pid = readPid(pidFile);
  if (pid !== undefined && processAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (processAlive(pid) && Date.now() < deadline) await sleep(100);
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    while (processAlive(pid)) await sleep(50);
  }
  removeBridge(bridge);
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').filter((l) => /level=(error|fatal)|failed/i.test(l)).slice(-5).join('\n');
  } catch {
    return '';
  }
}

/**
 * startPrivateDockerd runs `dockerd` with everything under `dir` (data/, exec/, docker.sock,
 * docker.pid, dockerd.log) on a bridge of its own, or reuses the daemon already running there.
 * Throws DockerdError: NotInstalled (no dockerd binary), NotRoot, or StartFailed (with the log's
 * last errors). The daemon outlives this process until stop() is called.
 */
export async function startPrivateDockerd(dir: string, options: PrivateDockerdOptions = {}): Promise<PrivateDockerd> {
  const root = resolve(dir);
  const socketPath = join(root, 'docker.sock');
  const pidFile = join(root, 'docker.pid');
  const logFile = join(root, 'dockerd.log');
  const name = bridgeNameFor(root);
  const handle = (reused: boolean, gateway: string): PrivateDockerd => ({
    socketPath,
    reused,
    bridge: { name, gateway },
    stop: () => stopDaemon(pidFile, name),
  });
  if (await pingDocker(socketPath)) return handle(true, ensureBridge(name));

  const dockerd = findDockerd();
  if (!dockerd) throw new DockerdError('NotInstalled', 'dockerd is not installed (Debian: apt-get install docker.io)');
  if (process.getuid?.() !== 0) throw new DockerdError('NotRoot', 'a private dockerd needs root');
  mkdirSync(root, { recursive: true });
  const gateway = ensureBridge(name);
  const log = openSync(logFile, 'a');
  const child = spawn(
    dockerd,
    ['--data-root', join(root, 'data'), '--exec-root', join(root, 'exec'), '-H', `unix://${socketPath}`, '--pidfile', pidFile, '--bridge', name],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.unref();
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (Date.now() < deadline && !exited) {
    if (await pingDocker(socketPath)) return handle(false, gateway);
    await sleep(200);
  }
  if (!exited) child.kill('SIGKILL');
  removeBridge(name);
  throw new DockerdError('StartFailed', `dockerd did not start (see ${logFile}): ${logTail(logFile)}`);
}

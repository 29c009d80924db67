/**
 * The supervisor of `coracle up --instances N`: starts the function app as separate host
 * processes (local/instance.ts), split into Flex Consumption's groups — N instances of the HTTP
 * group, one of the durable group, one of the other triggers (change feed, timers) — each with
 * the app settings in its environment, and starts again any that exits (a worker restart after a
 * functionTimeout, a crash, a `kill -9`), on the same port so the front keeps its list.
 *
 * Instances run from a release's build (its package root: `dist/local/instance.js` and the app);
 * `moveTo` restarts them one at a time from another release, each once the one before serves
 * again, the durable instance last — as a deployment slot swap replaces a function app's workers,
 * while the front keeps sending requests to the instances that serve.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { FunctionGroup } from './host.js';
import type { Logger } from './logger.js';
import type { NodeProvider } from '../shared/nodes/provider.js';
import type { ControlPlaneHost } from '../shared/release/control-plane.js';
import { serveSupervisor } from './supervisor-ipc.js';

/** instanceEntry is a release's instance program. */
const instanceEntry = (appDir: string) => path.join(appDir, 'dist', 'local', 'instance.js');
const READY = /instance ready (http:\/\/\S+)/;
const START_TIMEOUT_MS = 60_000;
const RESTART_DELAY_MS = 200;

/** InstanceSpec is one instance to run. */
export interface InstanceSpec {
  name: string;
  groups: readonly FunctionGroup[];
}

/** flexInstances is the split of `--instances n`: n HTTP instances, one durable, one for the other triggers. */
export function flexInstances(httpInstances: number): InstanceSpec[] {
  return [
    ...Array.from({ length: httpInstances }, (_, i) => ({ name: `http-${i}`, groups: ['http'] as FunctionGroup[] })),
    { name: 'durable-0', groups: ['durable'] },
    { name: 'triggers-0', groups: ['triggers'] },
  ];
}

/** RunningInstance is one supervised instance. */
export interface RunningInstance {
  readonly spec: InstanceSpec;
  readonly url: string;
  /** The current process id (changes when it is started again). */
  pid(): number | undefined;
  /** How many times it was started again after exiting. */
  restarts(): number;
  /** The release the current process runs. */
  version(): string;
}

/** Instances are the supervised processes. */
export interface Instances {
  all: readonly RunningInstance[];
  /** moveTo restarts every instance from release `release` (see the file comment); resolves once all serve it. */
  moveTo(release: InstanceRelease): Promise<void>;
  stop(): Promise<void>;
}

/** SuperviseOptions configure startInstances. */
export interface SuperviseOptions {
  specs: readonly InstanceSpec[];
  /** App settings (the environment each instance gets besides this process's). */
  settings: Readonly<Record<string, string>>;
  /** The release the instances start from. */
  release: InstanceRelease;
  dataDir: string;
  durableKey: string;
  logger: Logger;
  /** The supervisor's NodeProvider, served to the durable instance over IPC (undefined until the nodes run). */
  nodeProvider?: () => NodeProvider | undefined;
  /** The supervisor's ControlPlaneHost, served to the durable instance over IPC. */
  controlPlane?: () => ControlPlaneHost | undefined;
}

/** InstanceRelease is a release instances run from: its version and package root. */
export interface InstanceRelease {
  version: string;
  root: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** launch starts one process and resolves with it once it prints its ready line. */
function launch(spec: InstanceSpec, port: number, release: InstanceRelease, options: SuperviseOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, [instanceEntry(release.root)], {
    // The IPC channel tells the instance when this supervisor dies, even by kill -9 (local/instance.ts).
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: {
      ...process.env, ...options.settings,
      CORACLE_INSTANCE_NAME: spec.name, CORACLE_INSTANCE_GROUPS: spec.groups.join(','), CORACLE_INSTANCE_PORT: String(port),
      // One audit file per process: a rotating file has one writer.
      ...(options.settings.CORACLE_AUDIT_LOG ? { CORACLE_AUDIT_LOG: options.settings.CORACLE_AUDIT_LOG.replace(/(\.log)?$/, `-${spec.name}$1`) } : {}),
      CORACLE_APP_DIR: release.root, CORACLE_DATA_DIR: options.dataDir, CORACLE_DURABLE_KEY: options.durableKey,
      ...(options.nodeProvider ? { CORACLE_NODE_PROVIDER: 'ipc' } : {}),
      ...(options.controlPlane ? { CORACLE_CONTROL_PLANE_HOST: 'ipc' } : {}),
    },
  });
  serveSupervisor(child, { nodes: options.nodeProvider, controlPlane: options.controlPlane });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`instance ${spec.name} did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (!READY.test(out)) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve(child);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`instance ${spec.name} exited while starting (code ${code}, signal ${signal})`));
    });
  });
}

/** startInstances starts every instance and resolves once all serve; if one cannot start, all are stopped. */
export async function startInstances(options: SuperviseOptions): Promise<Instances> {
  let stopping = false;
  const children = new Set<ChildProcess>();
  let release = options.release;
  const restarters = new Map<string, () => Promise<void>>();
  const supervise = async (spec: InstanceSpec): Promise<RunningInstance> => {
    const port = await freePort();
    let running = release;
    let current = await launch(spec, port, running, options);
    let restarts = 0;
    let relaunched: (() => void) | undefined;
    restarters.set(spec.name, () => new Promise<void>((resolve) => {
      relaunched = resolve;
      const child = current;
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => clearTimeout(kill));
      child.kill('SIGTERM');
    }));
    const watch = (child: ChildProcess) => {
      children.add(child);
      child.once('exit', (code, signal) => {
        children.delete(child);
        if (stopping) return;
        if (relaunched) options.logger.info({ instance: spec.name, release: release.version }, 'instance stopped; starting it from its release');
        else options.logger.warn({ instance: spec.name, code, signal }, 'instance exited; starting it again');
        const again = async (): Promise<void> => {
          await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
          if (stopping) return;
          try {
            const next = release;
            current = await launch(spec, port, next, options);
            running = next;
            restarts++;
            watch(current);
            relaunched?.();
            relaunched = undefined;
          } catch (err) {
            options.logger.error({ instance: spec.name, err }, 'instance restart failed; trying again');
            return again();
          }
        };
        void again();
      });
    };
    watch(current);
    return { spec, url: `http://127.0.0.1:${port}`, pid: () => current.pid, restarts: () => restarts, version: () => running.version };
  };
  const stop = async () => {
    stopping = true;
    await Promise.all([...children].map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    })));
  };
  const started = await Promise.allSettled(options.specs.map(supervise));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const all = started.map((s) => (s as PromiseFulfilledResult<RunningInstance>).value);
  const moveTo = async (to: InstanceRelease) => {
    release = to;
    // The durable instance last: it runs the upgrade step that asked for the move.
    const order = [...all].sort((a, b) => Number(a.spec.groups.includes('durable')) - Number(b.spec.groups.includes('durable')));
    for (const instance of order) {
      if (stopping) return;
      if (instance.version() !== to.version) await restarters.get(instance.spec.name)!();
    }
  };
  return { all, moveTo, stop };
}

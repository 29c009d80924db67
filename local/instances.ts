/**
 * The supervisor of `coracle up --instances N`: starts the function app as separate host
 * processes (local/instance.ts), split into Flex Consumption's groups — N instances of the HTTP
 * group, one of the durable group, one of the other triggers (change feed, timers) — each with
 * the app settings in its environment, and starts again any that exits (a worker restart after a
 * functionTimeout, a crash, a `kill -9`), on the same port so the front keeps its list.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionGroup } from './host.js';
import type { Logger } from './logger.js';
import type { NodeProvider } from '../shared/nodes/provider.js';
import { serveNodeProvider } from './node-provider-ipc.js';

const INSTANCE_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'instance.js');
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
}

/** Instances are the supervised processes. */
export interface Instances {
  all: readonly RunningInstance[];
  stop(): Promise<void>;
}

/** SuperviseOptions configure startInstances. */
export interface SuperviseOptions {
  specs: readonly InstanceSpec[];
  /** App settings (the environment each instance gets besides this process's). */
  settings: Readonly<Record<string, string>>;
  appDir: string;
  dataDir: string;
  durableKey: string;
  logger: Logger;
  /** The supervisor's NodeProvider, served to the durable instance over IPC (undefined until the nodes run). */
  nodeProvider?: () => NodeProvider | undefined;
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
function launch(spec: InstanceSpec, port: number, options: SuperviseOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, [INSTANCE_ENTRY], {
    // The IPC channel tells the instance when this supervisor dies, even by kill -9 (local/instance.ts).
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: {
      ...process.env, ...options.settings,
      CORACLE_INSTANCE_NAME: spec.name, CORACLE_INSTANCE_GROUPS: spec.groups.join(','), CORACLE_INSTANCE_PORT: String(port),
      CORACLE_APP_DIR: options.appDir, CORACLE_DATA_DIR: options.dataDir, CORACLE_DURABLE_KEY: options.durableKey,
      ...(options.nodeProvider ? { CORACLE_NODE_PROVIDER: 'ipc' } : {}),
    },
  });
  if (options.nodeProvider) serveNodeProvider(child, options.nodeProvider);
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
  const supervise = async (spec: InstanceSpec): Promise<RunningInstance> => {
    const port = await freePort();
    let current = await launch(spec, port, options);
    let restarts = 0;
    const watch = (child: ChildProcess) => {
      children.add(child);
      child.once('exit', (code, signal) => {
        children.delete(child);
        if (stopping) return;
        options.logger.warn({ instance: spec.name, code, signal }, 'instance exited; starting it again');
        const again = async (): Promise<void> => {
          await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
          if (stopping) return;
          try {
            current = await launch(spec, port, options);
            restarts++;
            watch(current);
          } catch (err) {
            options.logger.error({ instance: spec.name, err }, 'instance restart failed; trying again');
            return again();
          }
        };
        void again();
      });
    };
    watch(current);
    return { spec, url: `http://127.0.0.1:${port}`, pid: () => current.pid, restarts: () => restarts };
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
  return { all: started.map((s) => (s as PromiseFulfilledResult<RunningInstance>).value), stop };
}

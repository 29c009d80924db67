/**
 * One instance of the function app in `coracle up --instances N`: a host process started with
 * the app settings in its environment, as the Functions host starts its worker, running only its
 * function groups (CORACLE_INSTANCE_GROUPS: `http`, `durable`, `triggers`, comma-separated) on
 * plain HTTP at 127.0.0.1:CORACLE_INSTANCE_PORT behind the front (local/front.ts).
 *
 * host.json's `functionTimeout` is enforced: an overrunning invocation makes this process exit
 * (code FUNCTION_TIMEOUT_EXIT_CODE), killing every invocation on it, and the supervisor
 * (local/instances.ts) starts it again — the Functions host restarts its worker the same way.
 * Prints `instance ready <url>` on stdout once serving; SIGTERM stops it cleanly.
 */
import { startLocalHost, type FunctionGroup } from './host.js';
import { createLogger } from './logger.js';
import { createQueueServer, QUEUE_PATH_PREFIX } from './queue-server.js';
import { METRICS_PATH } from '../shared/apiserver/telemetry.js';
import { exposition } from '../shared/telemetry/registry.js';
import { authenticateToken } from '../shared/apiserver/auth.js';
import { useControlPlaneHost, useNodeProvider } from '../functions/node-provider.js';
import { IpcControlPlaneHost, IpcNodeProvider } from './supervisor-ipc.js';

/** FUNCTION_TIMEOUT_EXIT_CODE is how an instance ends when an invocation outlived functionTimeout. */
export const FUNCTION_TIMEOUT_EXIT_CODE = 70;

const GROUPS: readonly FunctionGroup[] = ['http', 'durable', 'triggers'];

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (local/instance.ts is started by coracle up --instances)`);
  return value;
}

/** The app's composition root, imported only once the host has installed `@azure/functions-core` (the app registers on import). */
const runtime = () => import('../functions/runtime.js');

async function main(): Promise<void> {
  const groups = new Set(required('CORACLE_INSTANCE_GROUPS').split(',').map((g) => g.trim()));
  for (const g of groups) if (!GROUPS.includes(g as FunctionGroup)) throw new Error(`CORACLE_INSTANCE_GROUPS: unknown group "${g}" (use ${GROUPS.join(', ')})`);
  const logger = createLogger().child({ instance: process.env.CORACLE_INSTANCE_NAME });
  // Upgrade activities add and remove nodes through the supervisor, which runs the agents, and
  // move the control plane through it, which runs the instances; set before the app loads, so an
  // upgrade resumed at start finds them.
  if (groups.has('durable') && process.env.CORACLE_NODE_PROVIDER === 'ipc') useNodeProvider(new IpcNodeProvider());
  if (groups.has('durable') && process.env.CORACLE_CONTROL_PLANE_HOST === 'ipc') useControlPlaneHost(new IpcControlPlaneHost());
  const host = await startLocalHost({
    appDir: required('CORACLE_APP_DIR'),
    port: Number(required('CORACLE_INSTANCE_PORT')),
    host: '127.0.0.1',
    logger,
    groups: groups as Set<FunctionGroup>,
    appSettings: process.env,
    // Agents' work queue, served by the HTTP instances as the front reaches them.
    // The other instances serve their own figures (store, controllers' queue, durable engine) at
    // /metrics on their loopback port, as kube-controller-manager serves its own.
    mounts: groups.has('http') ? [{ prefix: QUEUE_PATH_PREFIX, handler: createQueueServer({
      queue: async () => (await runtime()).getWorkQueue(),
      // The same authenticators as the API server: static tokens, bootstrap tokens and node credentials.
      authenticate: async (token) => authenticateToken(token, (await (await runtime()).getAppContext()).authenticators),
    }) }] : [{ prefix: METRICS_PATH, handler: () => exposition() }],
    // Every instance has the durable client; only the durable group's runs orchestrations.
    // The other groups' durable clients write starts and events into durable.db with no way to wake
    // this process's dispatcher: it looks every 100 ms, the Azure Storage task hub's shortest queue
    // polling interval (it backs off towards maxQueuePollingInterval, 30 s by default, while its queues stay empty).
    durable: { dataDir: required('CORACLE_DATA_DIR'), key: required('CORACLE_DURABLE_KEY'), idlePollMs: 100 },
    changeFeedStore: groups.has('triggers') ? async () => {
      const { store, config } = await (await runtime()).getAppContext();
      return { store, cluster: config.cluster };
    } : undefined,
    onFunctionTimeout: () => {
      // The worker restart: every invocation in this process dies with it.
      process.exit(FUNCTION_TIMEOUT_EXIT_CODE);
    },
  });
  const stop = () => void host.stop().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Started by `coracle up --instances` with an IPC channel: when the supervisor dies (even by
  // kill -9) the channel closes, and the instance stops instead of living on orphaned, as agents do.
  if (process.send) process.once('disconnect', stop);
  process.stdout.write(`instance ready ${host.url}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`coracle instance: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

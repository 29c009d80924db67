/**
 * The change feed: store changes in, controller work out. In Azure a Cosmos DB trigger on the
 * store's container (with a lease container) delivers the adapter's documents; the local host
 * delivers the same documents from the store's watch (local/changefeed-trigger.ts). Either way
 * each document becomes a neutral Change, the registered controllers map it to keys, and the
 * ControllerManager reconciles them (deduplicated per batch, failures retried with back-off).
 *
 * At least once: the trigger declares a retry policy (without one, the Functions host gives a
 * failed batch up and moves its checkpoint on), so a batch whose handler throws is delivered
 * again, without end; every handler is idempotent (signals name keys, reconciles are
 * level-triggered). On a first start or a lost lease container the trigger starts from the
 * beginning of the container (`startFromBeginning`; locally: a listing), not from "now".
 * The handler returns once every key of the batch has been reconciled once, so the trigger's
 * checkpoint only moves past changes that were acted on; a retry still pending when the process
 * stops is recovered by the resync that the manager runs with the first batch of a process.
 * Controllers start where the change feed runs (the first invocation builds the manager), not on
 * every instance that loads the app: an HTTP instance never starts them.
 * Orchestrated controllers' resync keys are signalled once, with the first batch a process handles
 * (the durable client is an input of the invocation, so it cannot happen at app start).
 *
 * Pod work for nodes: when a WorkQueue is configured (`CORACLE_QUEUE` locally,
 * `SERVICEBUS_CONNECTION_STRING` in Azure; see functions/config.ts), the podwork controller puts
 * a message naming each changed bound pod on its node's queue, where that node's agent takes it.
 *
 * Settings: `COSMOS_CONNECTION_STRING` (the trigger's connection) and `COSMOS_DATABASE` (the
 * database holding the `objects` container).
 */
import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { changeFromDocument } from '../adapters/store/cosmos/change.js';
import type { Change } from '../shared/controllers/change.js';
import type { KubeObject } from '../shared/api/objects.js';
import type { Store } from '../shared/store/store.js';
import { isEncryptingStore } from '../shared/encryption/encrypting-store.js';
import { isEncryptedValue } from '../shared/encryption/envelope.js';
import { isOrchestrated, type Controller, type OrchestratedController } from '../shared/controllers/controller.js';
import { ControllerManager, controllerOfQueueKey } from '../shared/controllers/manager.js';
import { workQueueMetrics } from '../shared/telemetry/workqueue.js';
import { createLogger } from '../local/logger.js';
import { podWorkController } from '../shared/controllers/podwork/index.js';
import { nodeQueuesController } from '../shared/controllers/nodequeues/index.js';
import { CONTROLLERS } from '../shared/controllers/registry.js';
import { nodeIpamController } from '../shared/controllers/nodeipam/index.js';
import { routeController } from '../shared/controllers/routes/index.js';
import { controllerContext } from './api.js';
import { signalReconcile } from './orchestration.js';
import type { AppConfig } from './config.js';
import { getAppContext, getNodeRoutes, getPodCIDRAllocator, getWorkQueue, type AppContext } from './runtime.js';

/** CHANGEFEED_FUNCTION is the function's name (also the local host's checkpoint name). */
export const CHANGEFEED_FUNCTION = 'changefeed';

const IN_PROCESS: readonly Controller[] = CONTROLLERS.filter((c): c is Controller => !isOrchestrated(c));
const ORCHESTRATED: readonly OrchestratedController[] = CONTROLLERS.filter(isOrchestrated);

/**
 * inProcessControllers is the registry's in-process controllers plus, when the settings name a
 * WorkQueue, the podwork producer and the node-queues controller (a node's queue lives as long as its Node) (they need the composition root's queue, so it is wired here
 * rather than in the registry). Without a queue agents watch their pods instead, and a producer
 * would only fail every send. With a cluster CIDR, the node IPAM controller gives nodes pod CIDRs
 * (its allocations are store keys); with a route table too, the route controller keeps a route per
 * node in it.
 */
export function inProcessControllers(config: Pick<AppConfig, 'queue' | 'podNetwork' | 'routeTable'>): Controller[] {
  const controllers = config.queue ? [...IN_PROCESS, podWorkController(() => getWorkQueue()), nodeQueuesController(() => getWorkQueue())] : [...IN_PROCESS];
  if (config.podNetwork) controllers.push(nodeIpamController(() => getPodCIDRAllocator()));
  if (config.podNetwork && config.routeTable) controllers.push(routeController(() => getNodeRoutes(), config.podNetwork.clusterCIDR));
  return controllers;
}

/** The in-process controllers' user agent (kube-controller-manager's). */
const CONTROLLER_MANAGER = 'coracle-controller-manager';

const managers = new WeakMap<AppContext, ControllerManager>();
let current: ControllerManager | undefined;

/** controllerManager returns the manager of the current runtime, building it (and starting a resync) on first use. */
async function controllerManager(): Promise<ControllerManager> {
  const runtime = await getAppContext();
  let manager = managers.get(runtime);
  if (!manager) {
    const logger = createLogger().child({ component: CONTROLLER_MANAGER });
    manager = new ControllerManager(inProcessControllers(runtime.config), await controllerContext(CONTROLLER_MANAGER), {
      metrics: workQueueMetrics().forQueue(controllerOfQueueKey),
      // One JSON line per reconcile at level info, with the id of the API request whose write queued it.
      log: (line) => logger.info(line, 'reconcile'),
      onError: (key, err, failures) => {
        // First failure and then every tenth: retries are normal (conflicts), storms are not.
        if (failures === 1 || failures % 10 === 0) console.warn(`changefeed: reconcile ${key.replace('\t', ' ')} failed (attempt ${failures}): ${(err as Error).message}`);
      },
    });
    managers.set(runtime, manager);
    current = manager;
    void manager.resync();
  }
  return manager;
}

/**
 * orchestrationResyncSignals lists, once per runtime, every key the orchestrated controllers'
 * resync names (undefined after the first successful call). The orchestrations are durable, so
 * after a restart they hold every signal delivered before it; this covers what they never got (a
 * fresh or restored durable store beside an existing cluster). A failed listing is tried again
 * at the next batch.
 */
const resynced = new WeakSet<AppContext>();
async function orchestrationResyncSignals(controllers: readonly OrchestratedController[] = ORCHESTRATED): Promise<{ runtime: AppContext; signals: OrchestrationSignal[] } | undefined> {
  const runtime = await getAppContext();
  if (resynced.has(runtime)) return undefined;
  const ctx = await controllerContext(CONTROLLER_MANAGER);
  const lists = await Promise.all(controllers.map(async (c) => (await c.resync?.(ctx) ?? []).map((key) => ({ orchestration: c.orchestration, key }))));
  return { runtime, signals: lists.flat() };
}

/** changesOf turns the trigger's documents into changes, skipping documents that are not changes. */
export function changesOf(documents: readonly unknown[]): Change[] {
  return documents.map(changeFromDocument).filter((c): c is Change => c !== undefined);
}

/**
 * plainChanges decrypts the values of changes the store keeps encrypted (Secrets): the Cosmos DB
 * trigger hands over documents as stored. A value that cannot be decrypted is not passed on as
 * data: the change keeps its key (all a controller needs) with an empty value, and a warning says why.
 */
export async function plainChanges(changes: Change[], store: Store): Promise<Change[]> {
  if (!isEncryptingStore(store)) return changes;
  const plain = async (key: string, value: KubeObject | undefined): Promise<KubeObject | undefined> => {
    if (!isEncryptedValue(value)) return value;
    try {
      return (await store.plain(key, value)) as KubeObject;
    } catch (err) {
      console.warn(`changefeed: ${(err as Error).message}`);
      return {};
    }
  };
  return Promise.all(changes.map(async (c) => (isEncryptedValue(c.value) || isEncryptedValue(c.prevValue)
    ? { ...c, value: (await plain(c.key, c.value))!, prevValue: await plain(c.key, c.prevValue) }
    : c)));
}

/** OrchestrationSignal is one key for one orchestrated controller. */
export interface OrchestrationSignal {
  orchestration: string;
  key: string;
}

/** orchestrationSignals maps a batch to the orchestrated controllers' keys, each once, in first-seen order. */
export function orchestrationSignals(changes: readonly Change[], controllers: readonly OrchestratedController[] = ORCHESTRATED): OrchestrationSignal[] {
  const seen = new Map<string, OrchestrationSignal>();
  for (const change of changes) {
    const kind = String(change.value.kind ?? '');
    for (const c of controllers) {
      if (c.kinds !== '*' && !c.kinds.includes(kind)) continue;
      for (const key of c.keysFor(change)) seen.set(`${c.orchestration}\t${key}`, { orchestration: c.orchestration, key });
    }
  }
  return [...seen.values()];
}

/**
 * handleChangeFeed is the trigger's handler: one batch of documents, acted on before it returns
 * (in-process controllers reconciled once, orchestrated ones started or signalled).
 */
export async function handleChangeFeed(documents: unknown[], context: InvocationContext): Promise<void> {
  const changes = await plainChanges(changesOf(documents), (await getAppContext()).store);
  const resync = ORCHESTRATED.length > 0 ? await orchestrationResyncSignals() : undefined;
  if (changes.length === 0 && !resync) return;
  const signals = dedupeSignals([...(resync?.signals ?? []), ...orchestrationSignals(changes)]);
  const signalled = signals.length === 0 ? Promise.resolve() : (async () => {
    const client = df.getClient(context);
    // A failed signal fails the batch, so the trigger delivers it again (signals are idempotent).
    await Promise.all(signals.map((s) => signalReconcile(client, s.orchestration, s.key)));
    if (resync) resynced.add(resync.runtime);
  })();
  await Promise.all([(await controllerManager()).handleChanges(changes), signalled]);
}

function dedupeSignals(signals: readonly OrchestrationSignal[]): OrchestrationSignal[] {
  return [...new Map(signals.map((s) => [`${s.orchestration}\t${s.key}`, s])).values()];
}

app.cosmosDB(CHANGEFEED_FUNCTION, {
  connection: 'COSMOS_CONNECTION_STRING',
  databaseName: '%COSMOS_DATABASE%',
  containerName: 'objects',
  leaseContainerName: 'leases',
  // infra/modules/cosmos.bicep creates `leases`; with an Entra identity (no keys) the trigger may not create it.
  createLeaseContainerIfNotExists: false,
  maxItemsPerInvocation: 100,
  feedPollDelay: 500,
  startFromBeginning: true,
  // Without end: a batch is never given up (each retry waits 1 s, doubling up to a minute).
  retry: { strategy: 'exponentialBackoff', maxRetryCount: -1, minimumInterval: { seconds: 1 }, maximumInterval: { minutes: 1 } },
  // The durable client only when some controller is orchestrated: a host without a durable engine can still run the rest.
  extraInputs: ORCHESTRATED.length > 0 ? [df.input.durableClient()] : [],
  handler: handleChangeFeed,
});

app.hook.appTerminate(async () => {
  const manager = current;
  current = undefined;
  await manager?.stop();
});

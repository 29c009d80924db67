/**
 * The composition root: builds, once per process, the parts every function shares — the
 * cluster's store, the accepted bearer tokens, the nodes' work queue, the container log sink —
 * from the one typed configuration (functions/config.ts), the same way in Azure and under the
 * local host. Nothing else opens a store or a queue, and no part configures another through
 * `process.env`.
 *
 * The store opens at app start (an `appStart` hook), so a store that cannot be opened stops the
 * host instead of failing the first request, and closes at app termination.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { app } from '@azure/functions';
import type { Store } from '../shared/store/store.js';
import type { StorageSchema } from '../shared/store/schema.js';
import type { CosmosStore } from '../adapters/store/cosmos/cosmos-store.js';
import type { WorkQueue } from '../shared/workqueue/queue.js';
import type { LogSink } from '../shared/logs/logsink.js';
import type { NodeRoutes } from '../shared/nodes/routes.js';
import { awaitedNodeProvider, type NodeProvider } from '../shared/nodes/provider.js';
import { getNodeProvider as handedOverNodeProvider } from './node-provider.js';
import type { TokenCredential } from '@azure/core-auth';
import { podCIDRRange, storePodCIDRAllocator, type PodCIDRAllocator } from '../shared/controllers/nodeipam/cidrs.js';
import { staticTokenAuthenticator } from '../shared/apiserver/auth.js';
import { storeTokenAuthenticator, type TokenAuthenticator } from '../shared/apiserver/tokens.js';
import { oidcAuthenticator } from '../shared/apiserver/oidc.js';
import { breakGlassAuthenticator, isAdminUser } from '../shared/apiserver/admintoken.js';
import { azureCredential } from '../adapters/identity.js';
import { createAuditor, type Auditor } from '../shared/audit/audit.js';
import { DEFAULT_POLICY, parsePolicy } from '../shared/audit/policy.js';
import { encryptingStore } from '../shared/encryption/encrypting-store.js';
import { measuredStore } from '../shared/telemetry/store.js';
import { measuredWorkQueue } from '../shared/telemetry/nodequeue.js';
import type { KeyEncryptionService } from '../shared/encryption/envelope.js';
import {
  appConfig, readEncryptionConfig, readLogsConfig, readQueueConfig, readStoreConfig,
  type AppConfig, type AuditConfig, type EncryptionConfig, type LogsConfig, type NodePoolsConfig, type QueueConfig, type RouteTableConfig, type Settings, type StoreConfig,
} from './config.js';

export type { Settings } from './config.js';

/** TokenUser is the user a bearer token authenticates. */
export interface TokenUser {
  username: string;
  groups: readonly string[];
}

/**
 * AppContext is what the functions of one process share (not to be confused with the agent's
 * container runtime, agent/runtime/runtime.ts).
 */
export interface AppContext {
  config: AppConfig;
  store: Store;
  /** The store's layout as this process opened it (shared/store/schema.ts): the Cluster's status.storage. */
  storage: StorageSchema;
  /** The static tokens, the admin token's seed excepted. */
  tokens: ReadonlyMap<string, TokenUser>;
  /**
   * Every way a bearer token authenticates, in order: the static tokens above, the admin token
   * (a seed from the settings, rotated or disabled in the store: admintoken.ts), then bootstrap
   * tokens and node credentials kept in the store (shared/apiserver/tokens.ts), then the OIDC
   * issuer's tokens when one is configured (shared/apiserver/oidc.ts).
   */
  authenticators: readonly TokenAuthenticator[];
  /** A per-process token for CONTROLLER_USER (in `tokens`): the in-process controllers' API identity. */
  controllerToken: string;
  /** The audit log (undefined when none is configured). */
  auditor?: Auditor;
}

/** CONTROLLER_USER is who the in-process controllers (change feed) are to the API server. */
export const CONTROLLER_USER: TokenUser = { username: 'system:controller', groups: ['system:masters'] };

/**
 * openStore opens the store the configuration names, with Secrets encrypted at rest when
 * `encryption` names a key (shared/encryption); it throws, naming the setting or file, if it cannot.
 */
export async function openStore(config: StoreConfig, cluster: string, encryption?: EncryptionConfig): Promise<Store> {
  return (await openStoreWithSchema(config, cluster, encryption)).store;
}

/** openStoreWithSchema is openStore that also answers the layout the adapter brought the store to when it opened (shared/store/schema.ts). */
export async function openStoreWithSchema(config: StoreConfig, cluster: string, encryption?: EncryptionConfig): Promise<{ store: Store; schema: StorageSchema }> {
  const store = await openPlainStore(config, cluster);
  try {
    const schema = await store.storageSchema();
    return { store: encryption ? encryptingStore(store, { kms: await openKms(encryption) }) : store, schema };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** openKms opens the key-encryption key's service the configuration names (adapters/kms); the key file is created when absent. */
export async function openKms(config: EncryptionConfig): Promise<KeyEncryptionService> {
  if (config.kind === 'keyfile') {
    const { ensureKeyFile, localKms } = await import('../adapters/kms/local.js');
    await ensureKeyFile(config.file);
    return localKms(config.file);
  }
  const { keyVaultKms } = await import('../adapters/kms/keyvault.js');
  return keyVaultKms({ keyId: config.keyId, credential: await azureCredential(config.identity) });
}

async function openPlainStore(config: StoreConfig, cluster: string): Promise<Store & { storageSchema(): Promise<StorageSchema> }> {
  if (config.kind === 'sqlite') {
    // Imported lazily: the Azure deployment never loads better-sqlite3.
    const { openSqliteStore } = await import('../adapters/store/sqlite/index.js');
    try {
      return await openSqliteStore({ path: config.path });
    } catch (err) {
      const message = (err as Error).message;
      throw new Error(message.includes(config.path) ? message : `cannot open the store ${config.path}: ${message}`, { cause: err });
    }
  }
  if (config.kind === 'cosmos') return openCosmosStoreFrom(config, cluster);
  throw new Error('no store configured: set CORACLE_STORE=sqlite:<path>, or COSMOS_ENDPOINT (with COSMOS_KEY, or alone for the managed identity), or COSMOS_CONNECTION_STRING');
}

/** storeFromSettings opens the store app settings name (tools and tests that hold settings, not a configuration). */
export async function storeFromSettings(settings: Settings): Promise<Store> {
  return openStore(readStoreConfig(settings), settings.CORACLE_CLUSTER || 'default', readEncryptionConfig(settings));
}

/**
 * openCosmosStoreFrom opens the Cosmos DB store. The adapter (and the Cosmos SDK) load only here,
 * so a local cluster on SQLite never loads them.
 */
async function openCosmosStoreFrom(config: Extract<StoreConfig, { kind: 'cosmos' }>, cluster: string): Promise<CosmosStore> {
  // One after the other: jest's ESM loader fails on two concurrent imports of one module graph.
  const { openCosmosStore } = await import('../adapters/store/cosmos/index.js');
  const { CosmosClient } = await import('@azure/cosmos');
  // Without a key (Azure: the account has local auth off) the managed identity signs.
  const auth = config.key !== undefined ? { key: config.key } : { aadCredentials: await azureCredential(config.identity) };
  const client = new CosmosClient({
    endpoint: config.endpoint, ...auth,
    connectionPolicy: { enableEndpointDiscovery: config.endpointDiscovery },
  });
  try {
    return await openCosmosStore({ client, databaseId: config.database, containerId: config.container, cluster });
  } catch (err) {
    client.dispose();
    throw err;
  }
}

/**
 * openAuditor builds the audit log the configuration names: its policy (the file's, else
 * DEFAULT_POLICY) and its sink (adapters/audit: a rotated file, or Log Analytics). A policy file
 * that cannot be read or parsed throws, naming it.
 */
export async function openAuditor(config: AuditConfig | undefined): Promise<Auditor | undefined> {
  if (!config) return undefined;
  let policy = DEFAULT_POLICY;
  if (config.policyFile) {
    try {
      policy = parsePolicy(await readFile(config.policyFile, 'utf8'));
    } catch (err) {
      throw new Error(`${config.policyFile}: not a usable audit policy: ${(err as Error).message}`, { cause: err });
    }
  }
  const { sink } = config;
  if (sink.kind === 'file') {
    const { fileAuditSink } = await import('../adapters/audit/file.js');
    return createAuditor({ policy, sink: fileAuditSink(sink) });
  }
  const { logAnalyticsAuditSink } = await import('../adapters/audit/loganalytics.js');
  return createAuditor({ policy, sink: logAnalyticsAuditSink({ endpoint: sink.endpoint, ruleId: sink.ruleId, stream: sink.stream, credential: await azureCredential(sink.identity) }) });
}

/** Splits one CSV line; double quotes group commas. */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      fields.push(current.trim());
      current = '';
    } else current += ch;
  }
  fields.push(current.trim());
  return fields;
}

/** parseTokenFile reads Kubernetes' static token file format; a malformed line throws with its number. */
export function parseTokenFile(text: string, file: string): Map<string, TokenUser> {
  const tokens = new Map<string, TokenUser>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const [token, username, , groups] = csvFields(line);
    if (!token || !username) throw new Error(`${file}:${index + 1}: expected token,user,uid[,"groups"]`);
    tokens.set(token, { username, groups: groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [] });
  });
  return tokens;
}

/**
 * openOidcAuthenticator builds the OIDC authenticator the configuration names (undefined: none),
 * reaching the issuer with a fetch that trusts `caFile` when one is given. A CA file that cannot be
 * read throws, naming it.
 */
export async function openOidcAuthenticator(config: AppConfig['oidc']): Promise<TokenAuthenticator | undefined> {
  if (!config) return undefined;
  const { caFile, ...oidc } = config;
  if (!caFile) return oidcAuthenticator(oidc);
  const caPem = await readFile(caFile, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read the OIDC issuer's CA file ${caFile}: ${err.message}`, { cause: err });
  });
  const { fetchTrusting } = await import('../adapters/fetch-ca.js');
  return oidcAuthenticator({ ...oidc, caPem }, await fetchTrusting(caPem));
}

/** tokensFromSettings collects the accepted tokens from CORACLE_TOKENS_FILE, CORACLE_ADMIN_TOKEN and CORACLE_UP_TOKEN. */
export async function tokensFromSettings(settings: Settings): Promise<Map<string, TokenUser>> {
  return loadTokens({ tokensFile: settings.CORACLE_TOKENS_FILE || undefined, adminToken: settings.CORACLE_ADMIN_TOKEN || undefined, upToken: settings.CORACLE_UP_TOKEN || undefined });
}

/** UP_USER is who `coracle up`'s per-start token (CORACLE_UP_TOKEN) authenticates as. */
export const UP_USER: TokenUser = { username: 'system:coracle-up', groups: ['system:masters'] };

/** loadTokens collects the accepted tokens from the configuration's token file, admin token and `coracle up`'s token. */
export async function loadTokens(config: Pick<AppConfig, 'tokensFile' | 'adminToken' | 'upToken'>): Promise<Map<string, TokenUser>> {
  const tokens = new Map<string, TokenUser>();
  const file = config.tokensFile;
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the token file ${file}: ${(err as Error).message}`, { cause: err });
    }
    for (const [token, user] of parseTokenFile(text, file)) tokens.set(token, user);
  }
  if (config.adminToken) tokens.set(config.adminToken, { username: 'admin', groups: ['system:masters'] });
  if (config.upToken) tokens.set(config.upToken, UP_USER);
  return tokens;
}

let context: Promise<AppContext> | undefined;

/** getAppContext returns the process's AppContext, building it on first use; a failed build is retried next call. */
export function getAppContext(): Promise<AppContext> {
  context ??= (async () => {
    const config = appConfig();
    const tokens = await loadTokens(config);
    // The admin token is a break-glass credential (shared/apiserver/admintoken.ts): the configured
    // one is only a seed, which a rotation or a disable kept in the store overrides at once.
    const adminSeeds = new Set([...tokens].filter(([, user]) => isAdminUser(user)).map(([token]) => token));
    for (const token of adminSeeds) tokens.delete(token);
    // Never written anywhere: it only authenticates calls made inside this process.
    const controllerToken = randomBytes(32).toString('base64url');
    tokens.set(controllerToken, CONTROLLER_USER);
    const auditor = await openAuditor(config.audit);
    const oidc = await openOidcAuthenticator(config.oidc);
    // Counted at the port, whatever the adapter (shared/telemetry/store.ts): `/metrics` serves the figures.
    const opened = await openStoreWithSchema(config.store, config.cluster, config.encryption);
    const store = measuredStore(opened.store);
    const authenticators = [staticTokenAuthenticator(tokens), breakGlassAuthenticator(store, adminSeeds), storeTokenAuthenticator(store), ...(oidc ? [oidc] : [])];
    return { config, store, storage: opened.schema, tokens, authenticators, controllerToken, auditor };
  })();
  context.catch(() => (context = undefined));
  return context;
}

/**
 * openWorkQueue opens the WorkQueue the configuration names. `manageQueues: false` (node agents,
 * whose identity may only receive) never creates a queue: the control plane creates each node's.
 */
export async function openWorkQueue(config: QueueConfig, options: { manageQueues?: boolean } = {}): Promise<WorkQueue> {
  if (config.kind === 'sqlite') {
    // Imported lazily, like the store: the Azure deployment never loads better-sqlite3.
    const { openSqliteWorkQueue } = await import('../adapters/workqueue/sqlite/index.js');
    return openSqliteWorkQueue({ path: config.path });
  }
  const { openServiceBusTarget } = await import('../adapters/workqueue/servicebus/index.js');
  return openServiceBusTarget(config, options);
}

/**
 * workQueueFromSettings opens the WorkQueue app settings name: `CORACLE_QUEUE=sqlite:<path>`, or
 * Service Bus with `SERVICEBUS_CONNECTION_STRING`. Throws, naming the setting, if neither is usable.
 */
export async function workQueueFromSettings(settings: Settings): Promise<WorkQueue> {
  const config = readQueueConfig(settings);
  if (!config) throw new Error('no work queue configured: set CORACLE_QUEUE=sqlite:<path>, SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE');
  return openWorkQueue(config);
}

let workQueue: Promise<WorkQueue> | undefined;

/** getWorkQueue returns the process's WorkQueue (pod work for nodes), opening it on first use; a failed open is retried next call. */
export function getWorkQueue(): Promise<WorkQueue> {
  workQueue ??= (async () => {
    const config = appConfig().queue;
    if (!config) throw new Error('no work queue configured: set CORACLE_QUEUE=sqlite:<path>, SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE');
    return measuredWorkQueue(await openWorkQueue(config));
  })();
  workQueue.catch(() => (workQueue = undefined));
  return workQueue;
}

/** openLogSink builds the blob LogSink the configuration names, or undefined when none (pods/log then answers 503). */
export async function openLogSink(config: LogsConfig | undefined): Promise<LogSink | undefined> {
  if (!config) return undefined;
  const { createBlobLogSink } = await import('../adapters/logs/blob/index.js');
  if (!('accountUrl' in config)) return createBlobLogSink(config);
  return createBlobLogSink({ accountUrl: config.accountUrl, credential: await azureCredential(config.identity) });
}

/** logSinkFromSettings builds the blob LogSink app settings name, or undefined when none is set. */
export async function logSinkFromSettings(settings: Settings): Promise<LogSink | undefined> {
  return openLogSink(readLogsConfig(settings));
}

let logSink: Promise<LogSink | undefined> | undefined;

/** getLogSink returns the process's LogSink (undefined if none is configured), built on first use. */
export function getLogSink(): Promise<LogSink | undefined> {
  logSink ??= openLogSink(appConfig().logs);
  logSink.catch(() => (logSink = undefined));
  return logSink;
}

let podCIDRAllocator: Promise<PodCIDRAllocator> | undefined;

/** getPodCIDRAllocator returns the process's pod CIDR allocator (its allocations live in the store); throws when no cluster CIDR is configured. */
export function getPodCIDRAllocator(): Promise<PodCIDRAllocator> {
  podCIDRAllocator ??= (async () => {
    const net = appConfig().podNetwork;
    if (!net) throw new Error('no cluster CIDR configured: set CORACLE_CLUSTER_CIDR');
    return storePodCIDRAllocator((await getAppContext()).store, podCIDRRange(net.clusterCIDR, net.nodeMaskSize));
  })();
  podCIDRAllocator.catch(() => (podCIDRAllocator = undefined));
  return podCIDRAllocator;
}

/** openNodeRoutes opens the route table the configuration names (adapters/nodes/routes-azure.ts, signed with the managed identity). */
export async function openNodeRoutes(config: RouteTableConfig): Promise<NodeRoutes> {
  const { AzureNodeRoutes } = await import('../adapters/nodes/routes-azure.js');
  return new AzureNodeRoutes({ credential: await azureCredential(config.identity), subscriptionId: config.subscriptionId, resourceGroup: config.resourceGroup, routeTable: config.name });
}

let nodeRoutes: Promise<NodeRoutes> | undefined;

/** getNodeRoutes returns the process's NodeRoutes, opened on first use; throws when no route table is configured. */
export function getNodeRoutes(): Promise<NodeRoutes> {
  nodeRoutes ??= (async () => {
    const config = appConfig().routeTable;
    if (!config) throw new Error('no route table configured: set CORACLE_ROUTE_TABLE_ID');
    return openNodeRoutes(config);
  })();
  nodeRoutes.catch(() => (nodeRoutes = undefined));
  return nodeRoutes;
}

/** closeAppContext closes the store, the work queue and the log sink, if they were built; the next get builds afresh. */
export async function closeAppContext(): Promise<void> {
  const sink = logSink;
  logSink = undefined;
  await (await sink?.catch(() => undefined))?.close?.();
  const queue = workQueue;
  workQueue = undefined;
  await (await queue?.catch(() => undefined))?.close();
  podCIDRAllocator = undefined;
  nodeRoutes = undefined;
  const provider = azureNodeProvider;
  azureNodeProvider = undefined;
  await (await provider?.catch(() => undefined))?.close();
  const current = context;
  context = undefined;
  if (!current) return;
  const built = await current.catch(() => undefined);
  await built?.auditor?.close();
  await built?.store.close();
}

/**
 * openAzureNodeProvider opens the node pools the configuration names (adapters/nodes/azure.ts),
 * signed with the managed identity; `overrides` stand in for the cloud in tests (credential,
 * a stand-in's CA).
 */
export async function openAzureNodeProvider(config: NodePoolsConfig, overrides: { credential?: TokenCredential; ca?: string } = {}): Promise<NodeProvider> {
  const { AzureNodeProvider } = await import('../adapters/nodes/azure.js');
  return new AzureNodeProvider({
    credential: overrides.credential ?? (await azureCredential(config.identity)), subscriptionId: config.subscriptionId, resourceGroup: config.resourceGroup,
    scaleSetPrefix: config.scaleSetPrefix, ...(config.armEndpoint ? { endpoint: config.armEndpoint } : {}), ...(overrides.ca ? { ca: overrides.ca } : {}),
  });
}

let azureNodeProvider: Promise<NodeProvider> | undefined;

/**
 * getNodeProvider returns the process's NodeProvider: the one its host handed over (`coracle up`,
 * the `--instances` supervisor), else the Azure scale sets its configuration names (opened on
 * first use), else undefined (upgrades then cannot add or remove nodes).
 */
export function getNodeProvider(): NodeProvider | undefined {
  const handedOver = handedOverNodeProvider();
  if (handedOver) return handedOver;
  const config = appConfig().nodePools;
  if (!config) return undefined;
  // One client per process; a failed open (say, no identity yet) is tried again by the next step.
  azureNodeProvider ??= openAzureNodeProvider(config);
  azureNodeProvider.catch(() => (azureNodeProvider = undefined));
  return awaitedNodeProvider(azureNodeProvider);
}

export { getControlPlaneHost, useControlPlaneHost, useNodeProvider } from './node-provider.js';

let azureMonitor: Promise<{ shutdown(): Promise<void> } | undefined> | undefined;

/**
 * startTelemetryExport starts the OpenTelemetry export to Azure Monitor when the configuration
 * has a connection string (adapters/telemetry/azuremonitor.ts), once per process. The distro is
 * imported only then: a process without Application Insights never loads it.
 */
export function startTelemetryExport(config: Pick<AppConfig, 'applicationInsights'> = appConfig()): Promise<unknown> {
  azureMonitor ??= config.applicationInsights
    ? import('../adapters/telemetry/azuremonitor.js').then(({ startAzureMonitor }) => startAzureMonitor(config.applicationInsights!))
    : Promise.resolve(undefined);
  return azureMonitor;
}

app.hook.appStart(async () => {
  await startTelemetryExport();
  await getAppContext();
});
app.hook.appTerminate(async () => {
  await closeAppContext();
  const exporting = azureMonitor;
  azureMonitor = undefined;
  await (await exporting?.catch(() => undefined))?.shutdown();
});

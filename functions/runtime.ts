/**
 * The composition root: builds, once per process, what every function needs — the cluster's
 * store and the accepted bearer tokens — from app settings (environment variables), the same way
 * in Azure and under the local host.
 *
 * Settings:
 * - `CORACLE_STORE=sqlite:<path>`: the SQLite store (local). Otherwise Cosmos DB (Azure):
 *   `COSMOS_CONNECTION_STRING`, or `COSMOS_ENDPOINT` + `COSMOS_KEY`; `COSMOS_DATABASE` (default
 *   `coracle`); `CORACLE_CLUSTER` (default `default`) is the partition.
 * - `CORACLE_TOKENS_FILE`: a Kubernetes static token file (CSV `token,user,uid,"group1,group2"`);
 *   `CORACLE_ADMIN_TOKEN`: one token for user `admin` in `system:masters`. Both may be set.
 * - `CORACLE_QUEUE=sqlite:<path>`: the embedded WorkQueue (local); otherwise Service Bus with
 *   `SERVICEBUS_CONNECTION_STRING` (Azure). Opened on first use by getWorkQueue.
 * - Container logs (getLogSink): `CORACLE_LOGS=<connection string>` (local: Azurite's, set by
 *   `coracle up`); in Azure `LOGS_BLOB_ENDPOINT` (a blob account URL, signed with the app's managed
 *   identity, or a container URL with a SAS) or else the `AzureWebJobsStorage` connection string.
 *
 * The store opens at app start (a `appStart` hook), so a store that cannot be opened stops the
 * host instead of failing the first request, and closes at app termination.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { app } from '@azure/functions';
import type { Store } from '../shared/store/store.js';
import type { WorkQueue } from '../shared/workqueue/queue.js';
import type { LogSink } from '../shared/logs/logsink.js';

/** TokenUser is the user a bearer token authenticates. */
export interface TokenUser {
  username: string;
  groups: readonly string[];
}

/** Runtime is what the functions share. */
export interface Runtime {
  store: Store;
  tokens: ReadonlyMap<string, TokenUser>;
  /** A per-process token for CONTROLLER_USER (in `tokens`): the in-process controllers' API identity. */
  controllerToken: string;
}

/** CONTROLLER_USER is who the in-process controllers (change feed) are to the API server. */
export const CONTROLLER_USER: TokenUser = { username: 'system:controller', groups: ['system:masters'] };

/** Settings are the app settings the runtime reads; `process.env` by default. */
export type Settings = Record<string, string | undefined>;

/** storeFromSettings opens the store the settings name; it throws, naming the setting or file, if it cannot. */
export async function storeFromSettings(settings: Settings): Promise<Store> {
  const spec = settings.CORACLE_STORE ?? '';
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw new Error('CORACLE_STORE=sqlite: needs a file path');
    // Imported lazily: the Azure deployment never loads better-sqlite3.
    const { openSqliteStore } = await import('../adapters/store/sqlite/index.js');
    try {
      return await openSqliteStore({ path });
    } catch (err) {
      const message = (err as Error).message;
      throw new Error(message.includes(path) ? message : `cannot open the store ${path}: ${message}`, { cause: err });
    }
  }
  if (spec !== '' && spec !== 'cosmos') throw new Error(`CORACLE_STORE="${spec}" is not understood (use sqlite:<path> or cosmos)`);
  if (settings.COSMOS_CONNECTION_STRING || settings.COSMOS_ENDPOINT) return openCosmosFromSettings(settings);
  throw new Error('no store configured: set CORACLE_STORE=sqlite:<path>, or COSMOS_ENDPOINT and COSMOS_KEY (or COSMOS_CONNECTION_STRING)');
}

/**
 * cosmosAccount reads the account from `COSMOS_CONNECTION_STRING` (`AccountEndpoint=…;AccountKey=…;`)
 * or `COSMOS_ENDPOINT` + `COSMOS_KEY`.
 */
function cosmosAccount(settings: Settings): { endpoint: string; key: string } {
  const parts = new Map<string, string>();
  for (const part of (settings.COSMOS_CONNECTION_STRING ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) parts.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const endpoint = settings.COSMOS_ENDPOINT ?? parts.get('accountendpoint');
  const key = settings.COSMOS_KEY ?? parts.get('accountkey');
  if (!endpoint || !key) throw new Error('Cosmos DB needs COSMOS_CONNECTION_STRING, or COSMOS_ENDPOINT and COSMOS_KEY');
  return { endpoint, key };
}

/**
 * openCosmosFromSettings opens the Cosmos DB store: database `COSMOS_DATABASE` (default `coracle`),
 * container `COSMOS_CONTAINER` (default `objects`), partition `CORACLE_CLUSTER` (default `default`).
 * `COSMOS_ENDPOINT_DISCOVERY=false` is for single-endpoint emulators. The adapter (and the Cosmos
 * SDK) load only here, so a local cluster never loads them.
 */
async function openCosmosFromSettings(settings: Settings): Promise<Store> {
  // One after the other: jest's ESM loader fails on two concurrent imports of one module graph.
  const { openCosmosStore } = await import('../adapters/store/cosmos/index.js');
  const { CosmosClient } = await import('@azure/cosmos');
  const client = new CosmosClient({
    ...cosmosAccount(settings),
    connectionPolicy: { enableEndpointDiscovery: settings.COSMOS_ENDPOINT_DISCOVERY !== 'false' },
  });
  try {
    return await openCosmosStore({
      client,
      databaseId: settings.COSMOS_DATABASE ?? 'coracle',
      containerId: settings.COSMOS_CONTAINER ?? 'objects',
      cluster: settings.CORACLE_CLUSTER ?? 'default',
    });
  } catch (err) {
    client.dispose();
    throw err;
  }
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

/** tokensFromSettings collects the accepted tokens from CORACLE_TOKENS_FILE and CORACLE_ADMIN_TOKEN. */
export async function tokensFromSettings(settings: Settings): Promise<Map<string, TokenUser>> {
  const tokens = new Map<string, TokenUser>();
  const file = settings.CORACLE_TOKENS_FILE;
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the token file ${file}: ${(err as Error).message}`, { cause: err });
    }
    for (const [token, user] of parseTokenFile(text, file)) tokens.set(token, user);
  }
  if (settings.CORACLE_ADMIN_TOKEN) tokens.set(settings.CORACLE_ADMIN_TOKEN, { username: 'admin', groups: ['system:masters'] });
  return tokens;
}

let runtime: Promise<Runtime> | undefined;

/** getRuntime returns the process's runtime, building it on first use; a failed build is retried next call. */
export function getRuntime(settings: Settings = process.env): Promise<Runtime> {
  runtime ??= (async () => {
    const tokens = await tokensFromSettings(settings);
    // Never written anywhere: it only authenticates calls made inside this process.
    const controllerToken = randomBytes(32).toString('base64url');
    tokens.set(controllerToken, CONTROLLER_USER);
    return { store: await storeFromSettings(settings), tokens, controllerToken };
  })();
  runtime.catch(() => (runtime = undefined));
  return runtime;
}

/**
 * workQueueFromSettings opens the WorkQueue the settings name: `CORACLE_QUEUE=sqlite:<path>`, the
 * embedded queue (local; agents reach it through the local host), or else Azure Service Bus with
 * `SERVICEBUS_CONNECTION_STRING`. Throws, naming the setting, if neither is usable.
 */
export async function workQueueFromSettings(settings: Settings): Promise<WorkQueue> {
  const spec = settings.CORACLE_QUEUE ?? '';
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw new Error('CORACLE_QUEUE=sqlite: needs a file path');
    // Imported lazily, like the store: the Azure deployment never loads better-sqlite3.
    const { openSqliteWorkQueue } = await import('../adapters/workqueue/sqlite/index.js');
    return openSqliteWorkQueue({ path });
  }
  if (spec !== '' && spec !== 'servicebus') throw new Error(`CORACLE_QUEUE="${spec}" is not understood (use sqlite:<path> or servicebus)`);
  if (settings.SERVICEBUS_CONNECTION_STRING) {
    const { openServiceBusWorkQueue } = await import('../adapters/workqueue/servicebus/index.js');
    return openServiceBusWorkQueue({ connectionString: settings.SERVICEBUS_CONNECTION_STRING });
  }
  throw new Error('no work queue configured: set CORACLE_QUEUE=sqlite:<path>, or SERVICEBUS_CONNECTION_STRING');
}

let workQueue: Promise<WorkQueue> | undefined;

/** getWorkQueue returns the process's WorkQueue (pod work for nodes), opening it on first use; a failed open is retried next call. */
export function getWorkQueue(settings: Settings = process.env): Promise<WorkQueue> {
  workQueue ??= workQueueFromSettings(settings);
  workQueue.catch(() => (workQueue = undefined));
  return workQueue;
}

/** logSinkFromSettings builds the blob LogSink the settings name, or undefined when none is set (pods/log then answers 503). */
export async function logSinkFromSettings(settings: Settings): Promise<LogSink | undefined> {
  const { CORACLE_LOGS: local, LOGS_BLOB_ENDPOINT: endpoint, AzureWebJobsStorage: storage } = settings;
  if (!local && !endpoint && !storage) return undefined;
  const { createBlobLogSink } = await import('../adapters/logs/blob/index.js');
  if (local || !endpoint) return createBlobLogSink({ connectionString: local || storage });
  if (endpoint.includes('?')) return createBlobLogSink({ containerUrl: endpoint });
  // A computed specifier: @azure/identity is loaded only where a managed identity signs requests.
  const identity = '@azure/identity';
  const { DefaultAzureCredential } = (await import(identity)) as { DefaultAzureCredential: new () => import('@azure/core-auth').TokenCredential };
  return createBlobLogSink({ accountUrl: endpoint, credential: new DefaultAzureCredential() });
}

let logSink: Promise<LogSink | undefined> | undefined;

/** getLogSink returns the process's LogSink (undefined if none is configured), built on first use. */
export function getLogSink(settings: Settings = process.env): Promise<LogSink | undefined> {
  logSink ??= logSinkFromSettings(settings);
  logSink.catch(() => (logSink = undefined));
  return logSink;
}

/** closeRuntime closes the store, the work queue and the log sink, if they were built; the next get builds afresh. */
export async function closeRuntime(): Promise<void> {
  const sink = logSink;
  logSink = undefined;
  await (await sink?.catch(() => undefined))?.close?.();
  const queue = workQueue;
  workQueue = undefined;
  await (await queue?.catch(() => undefined))?.close();
  const current = runtime;
  runtime = undefined;
  if (!current) return;
  const built = await current.catch(() => undefined);
  await built?.store.close();
}

app.hook.appStart(async () => {
  await getRuntime();
});
app.hook.appTerminate(async () => {
  await closeRuntime();
});

/**
 * The local Functions host: loads a function app as Azure would, serves its HTTP triggers from a
 * node:http(s) server, runs its timer triggers, feeds its Cosmos DB triggers from the store's
 * watch (changefeed-trigger.ts), and runs the app's `appStart` / `appTerminate` hooks around it.
 * App settings are the process's environment, as the Functions host gives its worker: a host
 * process is started with them (local/instance.ts); the host never writes `process.env`.
 * A trigger or binding type it does not support fails start-up loudly, naming
 * the function.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { StreamGateway } from '../shared/streams/gateway.js';
import type { LogLevel } from '@azure/functions';
import { entryPoints, importEntryPoints, readAppSettings } from './app-loader.js';
import { FunctionsCoreShim, installFunctionsCore, triggerOf, type CoreLogLevel, type RegisteredFunction } from './functions-core.js';
import { buildHttpRoutes, findHttpRoute, serveHttpTrigger, type HttpRoute } from './http-trigger.js';
import { findMount, serveMount, type FetchMount } from './fetch-mount.js';
import { unsupportedBindings, type InputProvider, type InvokeOptions } from './invoke.js';
import { createLogger, type Logger } from './logger.js';
import { TimerTriggerRunner } from './timer-trigger.js';
import { ChangeFeedTriggerRunner, COSMOS_TRIGGER, type ChangeFeedStoreProvider } from './changefeed-trigger.js';
import { DURABLE_TRIGGERS, DurableHost, type DurableHostOptions } from './durable/index.js';
import { SERVER_TLS_OPTIONS } from './tls.js';
import { listen, type ConnectionSource } from './listener.js';

/**
 * SUPPORTED_TRIGGERS are the trigger binding types the local host can run (cosmosDBTrigger only
 * with a `changeFeedStore`, orchestrationTrigger/activityTrigger only with `durable`).
 */
export const SUPPORTED_TRIGGERS: readonly string[] = ['httpTrigger', 'timerTrigger', COSMOS_TRIGGER, ...DURABLE_TRIGGERS];

/** LocalHostOptions configure one host. */
export interface LocalHostOptions {
  /** The function app folder: package.json (`main`) and host.json. */
  appDir: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /**
   * Take connections from here instead of listening on `port` (the single-process control
   * plane's port, held across handovers: local/listener.ts). Detached first thing on stop().
   */
  connections?: ConnectionSource;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Serve HTTPS with this key and certificate (PEM); plain HTTP without. */
  tls?: { key: string; cert: string };
  logger?: Logger;
  /** Providers for extra input bindings by type (e.g. `durableClient`), for later engines. */
  inputProviders?: ReadonlyMap<string, InputProvider>;
  /**
   * The store cosmosDBTrigger functions are fed from (the store's watch stands in for Cosmos DB's
   * change feed). Without it, such a function fails start-up like any unsupported trigger.
   */
  changeFeedStore?: ChangeFeedStoreProvider;
  /**
   * The durable engine's settings (its data folder): runs orchestrationTrigger and activityTrigger
   * functions, provides the `durableClient` input and serves the client's webhooks. Without it,
   * such functions fail start-up like any unsupported trigger.
   */
  durable?: DurableHostOptions;
  /** Fetch-style handlers served beside the functions, matched by path prefix first (the embedded queue). */
  mounts?: readonly FetchMount[];
  /**
   * The function groups this host runs, as Flex Consumption scales them apart (HTTP, durable,
   * other triggers); absent: all. The whole app loads everywhere, as on every Azure instance.
   */
  groups?: ReadonlySet<FunctionGroup>;
  /**
   * Enforce host.json's `functionTimeout` (or `AzureFunctionsJobHost__functionTimeout` in
   * `appSettings`): an overrunning invocation is logged as the Functions host logs it and
   * `onFunctionTimeout` is called, which must restart the worker (local/instance.ts exits the process).
   */
  onFunctionTimeout?: (functionName: string, invocationId: string, timeoutMs: number) => void;
  /** App settings that override host.json (`AzureFunctionsJobHost__*`); default none. */
  appSettings?: Readonly<Record<string, string | undefined>>;
  /** The stream gateway served on this server (exec, attach, agents' tunnels): every upgrade request goes to it; closed by stop(). */
  streams?: StreamGateway;
}

/** FunctionGroup is one of the groups Flex Consumption scales separately. */
export type FunctionGroup = 'http' | 'durable' | 'triggers';

/** groupOf names the group a function scales in: its trigger decides. */
export function groupOf(fn: RegisteredFunction): FunctionGroup {
  const type = triggerOf(fn.metadata).type;
  if (type === 'httpTrigger') return 'http';
  if (DURABLE_TRIGGERS.includes(type)) return 'durable';
  return 'triggers';
}

/** LocalHost is a running host. */
export interface LocalHost {
  /** Base URL, e.g. `https://127.0.0.1:6443`. */
  url: string;
  port: number;
  /** Every registered function by name. */
  functions: ReadonlyMap<string, RegisteredFunction>;
  /**
   * pauseOrchestrations ends the durable engine's dispatching and waits for its running
   * orchestration steps and activities; the host still serves. Its owner calls it before stopping
   * what activities use (the nodes of `coracle up`); stop() does it too. Idempotent.
   */
  pauseOrchestrations(): Promise<void>;
  /** stop stops accepting, ends in-flight responses (watches), stops timers, runs appTerminate hooks. Idempotent. */
  stop(): Promise<void>;
}

const pinoLevel: Record<string, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  trace: 'trace', debug: 'debug', information: 'info', warning: 'warn', error: 'error', critical: 'fatal',
};

let shim: FunctionsCoreShim | undefined;
let activeLogger: Logger | undefined;

/** The host-wide shim: one per process, because `@azure/functions` caches the core API it first sees. */
function functionsCore(logger: Logger): FunctionsCoreShim {
  activeLogger = logger;
  if (!shim) {
    shim = new FunctionsCoreShim((level: CoreLogLevel, category, message) => {
      const method = pinoLevel[level];
      if (method) activeLogger?.[method]({ category }, message);
    });
    installFunctionsCore(shim);
  }
  return shim;
}

/** SUPPORTED_HOOKS are the app hooks the local host runs. */
export const SUPPORTED_HOOKS: readonly string[] = ['appStart', 'appTerminate'];

/** checkSupported throws, naming every function (or hook) whose trigger or bindings the host cannot run. */
function checkSupported(core: FunctionsCoreShim, running: ReadonlyMap<string, RegisteredFunction>, inputProviders: ReadonlyMap<string, InputProvider>, hasChangeFeed: boolean, hasDurable: boolean): void {
  const problems: string[] = [];
  for (const [hook, callbacks] of core.hooks) {
    if (callbacks.size > 0 && !SUPPORTED_HOOKS.includes(hook)) problems.push(`hook "${hook}" is not supported by the local host`);
  }
  for (const fn of running.values()) {
    const type = triggerOf(fn.metadata).type;
    if (!SUPPORTED_TRIGGERS.includes(type)) problems.push(`function "${fn.metadata.name}": trigger type "${type}" is not supported by the local host`);
    else if (type === COSMOS_TRIGGER && !hasChangeFeed) problems.push(`function "${fn.metadata.name}": trigger type "${type}" needs a change feed store (LocalHostOptions.changeFeedStore)`);
    else if (DURABLE_TRIGGERS.includes(type) && !hasDurable) problems.push(`function "${fn.metadata.name}": trigger type "${type}" needs the durable engine (LocalHostOptions.durable)`);
    for (const b of unsupportedBindings(fn, inputProviders)) problems.push(`function "${fn.metadata.name}": ${b} is not supported by the local host`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
}

async function runHooks(core: FunctionsCoreShim, name: 'appStart' | 'appTerminate', appDir: string): Promise<void> {
  for (const hook of core.hooksNamed(name)) await hook({ hookData: {}, appHookData: {}, functionAppDirectory: appDir });
}

/** startLocalHost loads the app and starts serving; it rejects (naming the cause) if anything cannot start. */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const logger = options.logger ?? createLogger();
  const core = functionsCore(logger);
  const settings = await readAppSettings(options.appDir, options.appSettings);
  await importEntryPoints(await entryPoints(options.appDir));
  const groups = options.groups;
  const dispatch = groups === undefined || groups.has('durable');
  const durable = options.durable ? new DurableHost(core.functions, options.appDir, { onError: (what, err) => logger.error({ err }, `${what} failed`), dispatch, ...options.durable }) : undefined;
  const inputProviders = new Map<string, InputProvider>(options.inputProviders ?? []);
  if (durable) inputProviders.set('durableClient', durable.clientInputProvider);
  const running = new Map([...core.functions].filter(([, fn]) => groups === undefined || groups.has(groupOf(fn))));
  checkSupported(core, running, inputProviders, options.changeFeedStore !== undefined, durable !== undefined);
  const mounts = [...(options.mounts ?? []), ...(durable ? [durable.mount] : [])];

  const timeoutMs = settings.functionTimeoutMs;
  const onTimeout = options.onFunctionTimeout;
  const invokeOptions: InvokeOptions = {
    inputProviders,
    functionTimeout: onTimeout && timeoutMs !== undefined ? {
      ms: timeoutMs,
      exceeded: (name, id) => {
        // The Functions host's own words; it then restarts the language worker.
        logger.error({ function: name, invocationId: id }, `Timeout value of ${timeoutMs} ms exceeded by function '${name}' (Id: '${id}'). Initiating cancellation.`);
        onTimeout(name, id, timeoutMs);
      },
    } : undefined,
    log: (functionName: string, level: LogLevel, args: unknown[]) => {
      const method = pinoLevel[level];
      if (method) logger[method]({ function: functionName }, args.map(String).join(' '));
    },
  };
  const routes = buildHttpRoutes(running.values(), settings.routePrefix);
  const timers = new TimerTriggerRunner(running.values(), invokeOptions, (name, err) =>
    logger.error({ function: name, err }, 'timer invocation failed'),
  );
  const changeFeeds = options.changeFeedStore
    ? new ChangeFeedTriggerRunner(running.values(), invokeOptions, options.changeFeedStore, (name, err) =>
      logger.error({ function: name, err }, 'change feed invocation failed'))
    : undefined;
  await runHooks(core, 'appStart', options.appDir);

  const inFlight = new Set<ServerResponse>();
  const shutdown = new AbortController();
  let baseUrl = '';
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    // Stopping: answer, then close the connection, so the client's next request finds the next server.
    if (shutdown.signal.aborted) res.setHeader('connection', 'close');
    res.once('close', () => inFlight.delete(res));
    const mount = findMount(mounts, new URL(req.url ?? '/', 'http://local').pathname);
    if (mount) {
      void serveMount(mount, req, res, baseUrl, shutdown.signal).catch((err) => {
        logger.error({ err, mount: mount.prefix }, 'mounted handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-length': '0' }).end();
        else res.destroy();
      });
      return;
    }
    void handleRequest(routes, req, res, { baseUrl, options: invokeOptions, logger, shutdown: shutdown.signal });
  };
  const server = options.tls ? https.createServer({ ...SERVER_TLS_OPTIONS, key: options.tls.key, cert: options.tls.cert }, onRequest) : http.createServer(onRequest);
  const host = options.host ?? '127.0.0.1';
  const streams = options.streams;
  if (streams) server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => streams.handleUpgrade(req, socket, head));
  const connections = options.connections;
  // Node tracks a server's connections (closeIdleConnections, closeAllConnections) only once it
  // listens; one fed by `connections` never does, so its sockets are tracked here and cut at stop.
  const fedSockets = new Set<Socket>();
  const detach = connections?.attach((socket) => {
    fedSockets.add(socket);
    socket.once('close', () => fedSockets.delete(socket));
    server.emit('connection', socket);
  });
  const port = connections ? connections.port : await listen(server, options.port, host);
  baseUrl = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  timers.start();
  // Before the change feed: it signals orchestrations through the durable client.
  await durable?.start(baseUrl, invokeOptions);
  changeFeeds?.start();
  logger.info({ url: baseUrl, functions: [...core.functions.keys()] }, 'local host started');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.debug({ inFlight: inFlight.size }, 'local host: stopping');
      detach?.();
      // (A server fed by `connections` does not listen: close() then only answers "not running".)
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Cancelling a streaming body ends the watch behind it and ends its response cleanly;
      // whatever is still running after the grace period is cut off.
      shutdown.abort();
      await waitFor(() => inFlight.size === 0, SHUTDOWN_GRACE_MS);
      server.closeAllConnections();
      for (const socket of fedSockets) socket.destroy();
      await Promise.all([closed, timers.stop(), changeFeeds?.stop(), streams?.close()]);
      await durable?.stop();
      logger.debug('local host: server closed, running appTerminate hooks');
      await runHooks(core, 'appTerminate', options.appDir);
      logger.debug('local host: stopped');
    })());
  return { url: baseUrl, port, functions: core.functions, pauseOrchestrations: async () => durable?.pause(), stop };
}

/** SHUTDOWN_GRACE_MS is how long stop() lets in-flight requests finish before cutting them off. */
const SHUTDOWN_GRACE_MS = 2000;

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/**
 * endsOnShutdown tells whether a response is ended (cleanly) when the host stops: a watch or a
 * followed log, which never ends by itself and whose client starts again. Any other response, a
 * list streamed in pieces included, is left to finish in the grace period: ended early it would
 * look complete to its client (a 200 with half a list), and past the grace period its connection
 * is cut, which the client sees as an error.
 */
function endsOnShutdown(url: URL): boolean {
  const q = url.searchParams;
  return ['true', '1'].includes(q.get('watch') ?? '') || ['true', '1'].includes(q.get('follow') ?? '') || url.pathname.includes('/watch/');
}

interface RequestScope {
  baseUrl: string;
  options: InvokeOptions;
  logger: Logger;
  shutdown: AbortSignal;
}

async function handleRequest(routes: readonly HttpRoute[], req: IncomingMessage, res: ServerResponse, scope: RequestScope): Promise<void> {
  const { logger } = scope;
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://local');
  const path = url.pathname;
  const match = findHttpRoute(routes, method, path);
  if (!match) {
    res.writeHead(404, { 'content-length': '0' }).end();
    return;
  }
  try {
    await serveHttpTrigger(match, req, res, scope.baseUrl, scope.options, endsOnShutdown(url) ? scope.shutdown : undefined);
  } catch (err) {
    logger.error({ err, function: match.route.fn.metadata.name, method, path }, 'function invocation failed');
    if (!res.headersSent) res.writeHead(500, { 'content-length': '0' }).end();
    else res.destroy();
  }
}

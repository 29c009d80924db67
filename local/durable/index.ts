/**
 * The local host's durable side: which registered functions are orchestrators and activities,
 * the engine over `<data-dir>/durable.db`, the `durableClient` input binding, and the client's
 * HTTP API (on the host under `/runtime/webhooks/durabletask/`, and on a loopback RPC listener).
 *
 * host.json settings honoured (`extensions.durableTask`): `hubName`,
 * `maxConcurrentActivityFunctions`, `maxConcurrentOrchestratorFunctions`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FetchMount } from '../fetch-mount.js';
import { readTextIfExists } from '../files.js';
import { serveMount } from '../fetch-mount.js';
import type { RegisteredFunction } from '../functions-core.js';
import { triggerOf } from '../functions-core.js';
import type { InputProvider, InvokeOptions } from '../invoke.js';
import { parseTimeSpan, type TimerLimits } from './actions.js';
import { DEFAULT_TIMER_LIMITS, DurableEngine } from './engine.js';
import { clientInput, createWebhookHandler, WEBHOOK_PREFIX, type DurableClientInput } from './webhooks.js';

/** DURABLE_TRIGGERS are the durable trigger types the local host runs (entities are not supported). */
export const DURABLE_TRIGGERS: readonly string[] = ['orchestrationTrigger', 'activityTrigger'];

/** DurableHostOptions configure the engine of one local host. */
export interface DurableHostOptions {
  /** The folder holding `durable.db`. */
  dataDir: string;
  /** The system key the public webhooks require (`code=`); random when absent. */
  key?: string;
  /** Overrides host.json's concurrency settings. */
  maxConcurrentActivities?: number;
  maxConcurrentOrchestrations?: number;
  /** Long-timer limits as TimeSpans (default Azure Storage's `6.00:00:00` / `3.00:00:00`). */
  maximumShortTimerDuration?: string;
  longRunningTimerIntervalDuration?: string;
  onError?: (what: string, err: unknown) => void;
  /**
   * Whether this host runs orchestrations and activities (default true). A host of another
   * function group (HTTP, change feed) sets false: its durable client still writes starts, events
   * and terminations into the shared `durable.db`, which the durable group's engine picks up (as
   * the Durable Task extension's client writes to the task hub's storage in Azure).
   */
  dispatch?: boolean;
  /** How often the dispatcher looks for work other processes wrote (DurableEngineOptions.idlePollMs). */
  idlePollMs?: number;
}

interface DurableTaskSettings {
  hubName?: string;
  maxConcurrentActivityFunctions?: number;
  maxConcurrentOrchestratorFunctions?: number;
}

async function readDurableTaskSettings(appDir: string): Promise<DurableTaskSettings> {
  const text = await readTextIfExists(path.join(appDir, 'host.json'));
  if (text === undefined) return {};
  const hostJson = JSON.parse(text) as { extensions?: { durableTask?: DurableTaskSettings } };
  return hostJson.extensions?.durableTask ?? {};
}

/** hasDurableFunctions tells whether any function has a durable trigger. */
export function hasDurableFunctions(functions: Iterable<RegisteredFunction>): boolean {
  return [...functions].some((fn) => DURABLE_TRIGGERS.includes(triggerOf(fn.metadata).type));
}

/** DurableHost is the engine of one local host; construct before checking bindings, start once the host listens. */
export class DurableHost {
  readonly key: string;
  private engine: DurableEngine | undefined;
  private rpc: http.Server | undefined;
  private client: DurableClientInput | undefined;
  private handler: ((request: Request) => Promise<Response>) | undefined;

  constructor(
    private readonly functions: ReadonlyMap<string, RegisteredFunction>,
    private readonly appDir: string,
    private readonly options: DurableHostOptions,
  ) {
    this.key = options.key ?? randomBytes(24).toString('base64url');
  }

  /** clientInputProvider provides the `durableClient` input binding (once started). */
  readonly clientInputProvider: InputProvider = () => {
    if (!this.client) throw new Error('the durable engine is not started yet');
    return this.client;
  };

  /** mount serves the client API on the host, under WEBHOOK_PREFIX, with the system key. */
  readonly mount: FetchMount = {
    prefix: `${WEBHOOK_PREFIX}/`,
    handler: async (request) => {
      if (!this.handler) return new Response('the durable engine is not started', { status: 503 });
      return this.handler(request);
    },
  };

  /** start opens the store, starts the loopback RPC listener and begins running orchestrations. */
  async start(publicBaseUrl: string, invoke: InvokeOptions): Promise<void> {
    const settings = await readDurableTaskSettings(this.appDir);
    const byTrigger = (type: string) => new Map([...this.functions].filter(([, fn]) => triggerOf(fn.metadata).type === type));
    const limits: TimerLimits = {
      maximumShortTimerMs: this.options.maximumShortTimerDuration ? parseTimeSpan(this.options.maximumShortTimerDuration) : DEFAULT_TIMER_LIMITS.maximumShortTimerMs,
      longRunningTimerIntervalMs: this.options.longRunningTimerIntervalDuration ? parseTimeSpan(this.options.longRunningTimerIntervalDuration) : DEFAULT_TIMER_LIMITS.longRunningTimerIntervalMs,
    };
    const engine = new DurableEngine({
      file: path.join(this.options.dataDir, 'durable.db'),
      orchestrators: byTrigger('orchestrationTrigger'), activities: byTrigger('activityTrigger'), invoke, limits,
      maxConcurrentActivities: this.options.maxConcurrentActivities ?? settings.maxConcurrentActivityFunctions,
      maxConcurrentOrchestrations: this.options.maxConcurrentOrchestrations ?? settings.maxConcurrentOrchestratorFunctions,
      onError: this.options.onError,
      idlePollMs: this.options.idlePollMs,
    });
    this.engine = engine;
    const hub = settings.hubName ?? 'TestHubName';
    const links = (id: string) => {
      const urls = clientInput(publicBaseUrl, '', hub, this.key).managementUrls;
      return Object.fromEntries(Object.entries(urls).map(([k, v]) => [k, v.replaceAll('INSTANCEID', encodeURIComponent(id))]));
    };
    this.handler = createWebhookHandler(engine, { prefix: WEBHOOK_PREFIX, key: this.key, managementLinks: links });
    // The loopback listener's credential: a secret made at each start, carried in the rpcBaseUrl
    // path the durableClient binding hands to the client (which resolves every operation
    // relative to it), so no other local user can start, terminate or purge orchestrations.
    const rpcSecret = randomBytes(32).toString('base64url');
    const rpcPrefix = `/durabletask/${rpcSecret}`;
    const rpcHandler = createWebhookHandler(engine, { prefix: rpcPrefix, managementLinks: links });
    this.rpc = http.createServer((req, res) => {
      if (!hasSecretPrefix(req.url ?? '', `${rpcPrefix}/`)) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('the durable task API needs the credential this host gave its durable client');
        return;
      }
      void serveMount({ prefix: `${rpcPrefix}/`, handler: rpcHandler }, req, res, 'http://127.0.0.1').catch((err: unknown) => {
        this.options.onError?.('durable rpc', err);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => this.rpc!.once('error', reject).listen(0, '127.0.0.1', resolve));
    const rpcBase = `http://127.0.0.1:${(this.rpc.address() as AddressInfo).port}${rpcPrefix}/`;
    this.client = clientInput(publicBaseUrl, rpcBase, hub, this.key);
    // Without WEBSITE_HOSTNAME, getClient rewrites management URLs to localhost:7071 (Core Tools' default).
    process.env.WEBSITE_HOSTNAME ??= new URL(publicBaseUrl).host;
    if (this.options.dispatch !== false) engine.start();
  }

  /** pause ends dispatching and waits for running steps and activities (a grace period for activities); the client API still answers. */
  async pause(): Promise<void> {
    await this.engine?.pause();
  }

  /** stop ends dispatching (in-flight activities get a grace period) and closes the listener and store. */
  async stop(): Promise<void> {
    const rpc = this.rpc;
    this.rpc = undefined;
    if (rpc) {
      rpc.closeAllConnections();
      await new Promise<void>((resolve) => rpc.close(() => resolve()));
    }
    await this.engine?.stop();
    this.engine = undefined;
    this.handler = undefined;
  }
}

/** hasSecretPrefix tells whether `url` starts with `prefix` (which holds a secret), comparing in constant time. */
function hasSecretPrefix(url: string, prefix: string): boolean {
  const head = Buffer.from(url.slice(0, prefix.length));
  const want = Buffer.from(prefix);
  return head.length === want.length && timingSafeEqual(head, want);
}

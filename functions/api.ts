/**
 * The API server of the current runtime, built once and shared: the HTTP function serves it, and
 * every controller in this process talks to it in-process (no HTTP, no TLS) through an ApiClient
 * under the controllers' identity. One handler means one set of rules for every caller: node
 * authorization then RBAC, ServiceAccount tokens, PodDisruptionBudget admission of evictions, the log sink.
 */
import { chainAdmissions } from '../shared/apiserver/context.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { admitVersionSkew } from '../shared/upgrade/objects.js';
import { admitUpgradeRun, RUNNING_BUILD_ONLY, type ReleaseCatalog } from '../shared/upgrade/admission.js';
import type { ReleaseCatalogStore } from '../shared/release/catalog.js';
import { openAzureReleaseCatalog } from './releases.js';
import { createApiServer, type ApiHandler, type ApiServerOptions } from '../shared/apiserver/index.js';
import { withInflightLimit } from '../shared/apiserver/inflight.js';
import { ApiServerMetrics, withRequestMetrics } from '../shared/apiserver/telemetry.js';
import { processRegistry } from '../shared/telemetry/registry.js';
import { createRequestLog, observers, type RequestLog } from '../shared/telemetry/requestlog.js';
import { createLogger } from '../local/logger.js';
import { createAccessControl } from '../shared/rbac/authorizer.js';
import { admitRbacEscalation } from '../shared/rbac/escalation.js';
import { ServiceAccountTokens } from '../shared/rbac/satokens.js';
import { admitPodServiceAccount } from '../shared/rbac/podserviceaccount.js';
import { podTrustBundle } from './pod-trust.js';
import { createNodeRestriction } from '../shared/apiserver/noderestriction.js';
import { admitEvictionByBudgets } from '../shared/apiserver/disruption.js';
import { ApiClient } from '../shared/controllers/client.js';
import type { ControllerContext } from '../shared/controllers/controller.js';
import { sharedInformer } from '../shared/controllers/informer.js';
import { setDefaultTolerationSeconds } from '../shared/api/defaults.js';
import type { Auditor } from '../shared/audit/audit.js';
import { CONTROLLER_USER, getAppContext, getLogSink, type AppContext } from './runtime.js';
import type { AppConfig } from './config.js';

/**
 * serviceSettings reads the Service address settings: `CORACLE_SERVICE_CIDR` (default
 * 10.96.0.0/12), `CORACLE_NODE_PORT_RANGE` (default 30000-32767) and `CORACLE_ADVERTISE_ADDRESS`
 * (`ip:port`, where the `kubernetes` Service's endpoints point).
 */
export function serviceSettings(config: AppConfig): Pick<ApiServerOptions, 'serviceNetwork' | 'advertise'> {
  const advertise = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(config.advertiseAddress ?? '');
  return {
    serviceNetwork: { serviceCIDR: config.serviceCIDR, nodePortRange: config.nodePortRange },
    advertise: advertise ? { ip: advertise[1]!, port: Number(advertise[2]) } : undefined,
  };
}

/** APP_DIR is the function app's package root (its build's version stamp is the catalog's installed release). */
const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * releaseCatalog is the control plane's release catalog: with a data folder (local), the
 * installed build and the packages under `<data>/releases` (local/releases.ts); on Azure, the
 * blob container `CORACLE_RELEASES_URL` names (adapters/releases/blob.ts); without either, the
 * running build only. Read on each call: a release may be added while the cluster serves.
 */
export function releaseCatalog(config: Pick<AppConfig, 'dataDir' | 'releases'>): ReleaseCatalog {
  const { dataDir, releases } = config;
  if (dataDir) {
    return async () => {
      const { localReleaseCatalog } = await import('../local/releases.js');
      return localReleaseCatalog(dataDir, APP_DIR).list();
    };
  }
  if (!releases) return RUNNING_BUILD_ONLY;
  let catalog: Promise<ReleaseCatalogStore> | undefined;
  return async () => {
    catalog ??= openAzureReleaseCatalog(releases);
    catalog.catch(() => (catalog = undefined));
    return (await catalog).list();
  };
}

/** withAudit records the handler's requests in `auditor`'s log (shared/audit), or returns it as it is without one. */
function withAudit(auditor: Auditor | undefined, handler: ApiHandler): ApiHandler {
  return auditor ? auditor.wrap(handler) : handler;
}

const handlers = new WeakMap<AppContext, Promise<ApiHandler>>();
let processMetrics: ApiServerMetrics | undefined;
let processRequestLog: RequestLog | undefined;

/**
 * requestLog is this process's request log (shared/telemetry/requestlog.ts): one JSON line per API
 * request at level info (CORACLE_LOG_LEVEL=info shows them), with its request id.
 */
function requestLog(): RequestLog {
  if (!processRequestLog) {
    const logger = createLogger().child({ component: 'apiserver' });
    processRequestLog = createRequestLog((line) => logger.info(line, 'request'));
  }
  return processRequestLog;
}

/** apiServerMetrics is this process's API server metric registry (`/metrics`), one per process as each kube-apiserver has its own. */
export function apiServerMetrics(): ApiServerMetrics {
  return (processMetrics ??= new ApiServerMetrics({ registry: processRegistry() }));
}
const contexts = new WeakMap<AppContext, Map<string, ControllerContext>>();

/**
 * clusterCaPem is the CA bundle pods trust for the API server (the root CA publisher's,
 * functions/pod-trust.ts): CORACLE_API_CA_BUNDLE; else locally `<data>/ca.crt`, which `coracle up`
 * writes; else (Azure, a public certificate) the public roots Node ships.
 */
function clusterCaPem(config: Pick<AppConfig, 'dataDir' | 'apiCaBundle'>): Promise<string | undefined> {
  return podTrustBundle({ bundle: config.apiCaBundle, dataDir: config.dataDir });
}

/** apiHandler returns the current runtime's API handler, every request counted in `/metrics` (rebuilt if the runtime was closed and rebuilt). */
export async function apiHandler(): Promise<ApiHandler> {
  const runtime = await getAppContext();
  let handler = handlers.get(runtime);
  if (!handler) {
    // DefaultTolerationSeconds for new pods is process-wide: the in-process controllers' handlers create pods too.
    if (runtime.config.defaultTolerationSeconds !== undefined) setDefaultTolerationSeconds(runtime.config.defaultTolerationSeconds);
    const releases = releaseCatalog(runtime.config);
    const auditor = runtime.auditor;
    const serviceAccountTokens = new ServiceAccountTokens(runtime.store);
    const log = requestLog();
    handler = getLogSink().then((logSink) => withRequestMetrics(log.wrap(withAudit(auditor, createApiServer({
      store: runtime.store, tokenAuthenticators: [...runtime.authenticators, serviceAccountTokens.authenticator()],
      access: createAccessControl(runtime.store), tokenIssuer: serviceAccountTokens,
      admit: chainAdmissions(createNodeRestriction(), admitVersionSkew, admitUpgradeRun(releases), admitRbacEscalation), mutate: admitPodServiceAccount, logSink, admitEviction: admitEvictionByBudgets, releases,
      metrics: apiServerMetrics(),
      watchLimits: { minRequestTimeoutSeconds: runtime.config.minRequestTimeoutSeconds, keepAliveMs: runtime.config.watchKeepAliveMs, progressUsers: [CONTROLLER_USER.username] },
      ...serviceSettings(runtime.config), onRequestFacts: observers(auditor?.observe, log.observe),
    }))), apiServerMetrics()));
    handlers.set(runtime, handler);
  }
  return handler;
}

const httpHandlers = new WeakMap<AppContext, Promise<ApiHandler>>();

/**
 * httpApiHandler is apiHandler behind the max-in-flight filter (shared/apiserver/inflight.ts,
 * its 429s counted in `/metrics`), for requests from outside the process: the in-process controllers call apiHandler directly, as
 * kube-apiserver's loopback client is never shed. Limits come from the settings.
 */
export async function httpApiHandler(): Promise<ApiHandler> {
  const runtime = await getAppContext();
  let handler = httpHandlers.get(runtime);
  if (!handler) {
    const metrics = apiServerMetrics();
    handler = apiHandler().then((inner) => withInflightLimit(inner, runtime.config.inflight, (request) => metrics.refused(request)));
    httpHandlers.set(runtime, handler);
  }
  return handler;
}

/**
 * controllerContext is the ControllerContext of `component` (its user agent, e.g.
 * `coracle-scheduler`) on the current runtime, built on first use and kept: one client per
 * component means one event recorder cache, so repeated events count up as client-go's do.
 */
export async function controllerContext(component: string): Promise<ControllerContext> {
  const runtime = await getAppContext();
  let byComponent = contexts.get(runtime);
  if (!byComponent) contexts.set(runtime, (byComponent = new Map()));
  let ctx = byComponent.get(component);
  if (!ctx) {
    const client = new ApiClient(await apiHandler(), { baseUrl: 'http://in-process', token: runtime.controllerToken, userAgent: component });
    // Every component reads the same caches, kept through one client (one watch per resource).
    const informers = component === INFORMERS_COMPONENT ? client : (await controllerContext(INFORMERS_COMPONENT)).client;
    const clusterCa = await clusterCaPem(runtime.config);
    ctx = byComponent.get(component) ?? { client, now: () => new Date(), informer: (resource) => sharedInformer(informers, resource, logInformerError), clusterCaPem: clusterCa, storage: runtime.storage };
    byComponent.set(component, ctx);
  }
  return ctx;
}

/** INFORMERS_COMPONENT is the user agent of the client the runtime's shared informers read through. */
export const INFORMERS_COMPONENT = 'coracle-informers';

/** logInformerError reports a failed list or watch (the informer retries by itself). */
export function logInformerError(err: unknown): void {
  console.warn(`informer: ${(err as Error).message}`);
}

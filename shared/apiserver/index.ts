/**
 * The API server as a fetch-style handler: a standard `Request` in, a standard `Response` out.
 * `functions/apiserver.ts` adapts the Azure Functions HTTP trigger to it; the local host serves the
 * same function. Watch responses stream their body (a ReadableStream of JSON lines).
 *
 * Order of work per request: authenticate (401), system namespaces ensured (once), discovery
 * paths, route (404/405), authorize (hook), then one handler per verb. Every failure is answered
 * as a Kubernetes Status (respond.ts).
 */
import { RELEASE_VERSION } from '../release/version.js';
import type { Store } from '../store/store.js';
import type { Admission, Authorizer, MutatingAdmission, EvictionAdmission, HandlerContext, UserInfo, WatchLimits } from './context.js';
import { authenticate, PUBLIC_PATHS, runTokenAuthenticators, staticTokenAuthenticator } from './auth.js';
import { isBootstrapper, type Authenticator } from './tokens.js';
import { handleNodeCredentialRequest, NODE_CREDENTIAL_PATH } from './nodecredential.js';
import { nodeForbidden } from './authorize.js';
import { methodNotAllowed } from '../api/status.js';
import { ensureSystemNamespaces } from './namespaces.js';
import { serviceNetwork } from './services.js';
import { bootstrapServices } from './bootstrap-services.js';
import { DEFAULT_PEERS, type Peers } from './peers.js';
import { route } from './router.js';
import { errorResponse, jsonResponse } from './respond.js';
import { handleGet } from './get.js';
import { handleList } from './list.js';
import { handleWatch } from './watch.js';
import { handleCreate } from './create.js';
import { handleUpdate } from './update.js';
import { handlePatch } from './patch.js';
import { handleDelete, handleDeleteCollection } from './delete.js';
import { handlePodLog } from './log.js';
import { handlePodStream, handleTunnelIdentity } from './stream.js';
import { STREAM_SUBRESOURCES, STREAM_TUNNEL_PATH } from '../streams/gateway.js';
import type { LogSink } from '../logs/logsink.js';
import type { RequestInfo } from './context.js';
import type { RequestObserver } from '../audit/audit.js';
import { handleNodeMetricsReport, reportNameOf } from './metricsreport.js';
import { handleMetrics } from './metricsapi.js';
import { mayReadMetrics, METRICS_PATH, metricsForbidden, type ApiServerMetrics } from './telemetry.js';
import type { AccessControl } from '../rbac/authorizer.js';
import { impersonate } from '../rbac/impersonate.js';
import { reconcileBootstrapPolicy } from '../rbac/bootstrap.js';
import type { ServiceAccountTokenIssuer } from './context.js';

/** ApiServerOptions are the API server's dependencies and settings. */
export interface ApiServerOptions {
  /** The cluster's store. */
  store: Store;
  /** Bearer tokens accepted, each mapped to the user it authenticates (asked first). */
  tokens?: ReadonlyMap<string, { username: string; groups: readonly string[] }>;
  /** More token authenticators, asked after `tokens` (bootstrap tokens and node credentials: tokens.ts storeTokenAuthenticator; ServiceAccount tokens; OIDC). */
  tokenAuthenticators?: readonly Authenticator[];
  /** The version `/version` reports, e.g. `v1.35.0-coracle`. */
  gitVersion?: string;
  /** Authorization hook (node identities, RBAC): undefined allows every authenticated user everything (unless `access` is set). */
  authorize?: Authorizer;
  /**
   * The authorization chain (shared/rbac/authorizer.ts: masters, node authorizer, RBAC): authorizes
   * requests (when `authorize` is unset), answers the access reviews, guards impersonation and RBAC
   * escalation; its default roles are reconciled at start. Undefined: none of that (tests of other parts).
   */
  access?: AccessControl;
  /** ServiceAccount token issuance (`serviceaccounts/<name>/token`); undefined: 503. */
  tokenIssuer?: ServiceAccountTokenIssuer;
  /** Validating admission of creates and updates (NodeRestriction): undefined admits every write. */
  admit?: Admission;
  /** Mutating admission of creates (the ServiceAccount plugin): undefined changes nothing. */
  mutate?: MutatingAdmission;
  /** Eviction admission hook (PodDisruptionBudgets): undefined admits every eviction. */
  admitEviction?: EvictionAdmission;
  /** The clock; tests inject one. */
  now?: () => Date;
  /** Where container logs are read from (`pods/log`); undefined: that subresource answers 503. */
  logSink?: LogSink;
  /** Watch duration and keep-alive bounds (defaults: kube-apiserver's 1800 s, keep-alive 30 s). */
  watchLimits?: Partial<WatchLimits>;
  /** Service addresses: `serviceCIDR` (default 10.96.0.0/12) and `nodePortRange` (default 30000-32767). */
  serviceNetwork?: { serviceCIDR?: string; nodePortRange?: string };
  /** Where the `default/kubernetes` Service's endpoints point (this API server as pods reach it); absent: the Service has no endpoints. */
  advertise?: { ip: string; port: number };
  /** The release catalog: versions the control plane may move to (UpgradePreview, UpgradeRun admission); undefined: the running build's only. */
  releases?: () => Promise<readonly string[]>;
  /** The metric registry `/metrics` serves (telemetry.ts; requests are counted by withRequestMetrics around the handler); undefined: `/metrics` is 404. */
  metrics?: ApiServerMetrics;
  /** Told who sent each request once authenticated, and what it asks once routed (the audit log: shared/audit). */
  onRequestFacts?: RequestObserver;
  /** Replacements for the functions other modules provide (tests). */
  peers?: Partial<Peers>;
}

/** ApiHandler serves one request. */
export type ApiHandler = (request: Request) => Promise<Response>;

const HANDLERS: Record<RequestInfo['verb'], (ctx: HandlerContext, peers: Peers) => Promise<Response>> = {
  get: handleGet,
  list: handleList,
  watch: handleWatch,
  create: handleCreate,
  update: handleUpdate,
  patch: handlePatch,
  delete: handleDelete,
  deletecollection: handleDeleteCollection,
};

function serveHealth(url: URL, gitVersion: string | undefined): Response | undefined {
  if (url.pathname === '/healthz' || url.pathname === '/livez' || url.pathname === '/readyz') {
    return new Response('ok', { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
  if (url.pathname === '/version') {
    const v = gitVersion ?? RELEASE_VERSION;
    const m = /^v(\d+)\.(\d+)/.exec(v);
    return jsonResponse({ major: m?.[1] ?? '1', minor: m?.[2] ?? '35', gitVersion: v, platform: `${process.platform}/${process.arch}` });
  }
  return undefined;
}

/** isNonResourcePath tells whether a path is discovery or schema (`/api`, `/apis/<group>/<version>`, `/openapi/...`), authorized as a non-resource URL. */
function isNonResourcePath(pathname: string): boolean {
  const parts = pathname.split('/').filter((p) => p !== '');
  if (parts[0] === 'api') return parts.length <= 2;
  if (parts[0] === 'apis') return parts.length <= 3;
  return parts[0] === 'openapi' || parts[0] === 'version';
}

/** createApiServer builds the handler. System namespaces are created on first use (idempotently). */
export function createApiServer(options: ApiServerOptions): ApiHandler {
  let ready: Promise<void> | undefined;
  const now = options.now ?? (() => new Date());
  const peers: Peers = { ...DEFAULT_PEERS, ...options.peers };
  const network = serviceNetwork(options.serviceNetwork);
  const authenticators = [...(options.tokens ? [staticTokenAuthenticator(options.tokens)] : []), ...(options.tokenAuthenticators ?? [])];
  // The API server's own audiences (upstream's --api-audiences, defaulting to the ServiceAccount issuer).
  const apiAudiences = options.tokenIssuer?.defaultAudiences ?? [];
  const reviewToken = (token: string, audiences: readonly string[]) => runTokenAuthenticators(token, authenticators, apiAudiences, audiences);
  const authorize = options.authorize ?? options.access?.authorize;
  return async (request) => {
    let info: RequestInfo | undefined;
    try {
      const url = new URL(request.url);
      let user: UserInfo | undefined;
      if (!PUBLIC_PATHS.has(url.pathname)) user = await authenticate(request, authenticators, apiAudiences);
      options.onRequestFacts?.(request, { user });
      if (user && options.access) {
        const requester = user;
        user = await impersonate(request, user, options.access);
        if (user !== requester) options.onRequestFacts?.(request, { impersonatedUser: user });
      }
      ready ??= ensureSystemNamespaces(options.store, now()).then(() => bootstrapServices(options.store, network, options.advertise, now()))
        .then(() => (options.access ? reconcileBootstrapPolicy(options.store, now()) : undefined)).catch((err) => {
        ready = undefined;
        throw err;
      });
      await ready;
      if (user && url.pathname === NODE_CREDENTIAL_PATH) return await handleNodeCredentialRequest(options.store, request, user, now());
      if (user && url.pathname === STREAM_TUNNEL_PATH) return handleTunnelIdentity(user);
      const reportedNode = user && reportNameOf(url.pathname);
      if (user && reportedNode) return await handleNodeMetricsReport(options.store, request, user, reportedNode, now());
      if (user && url.pathname === METRICS_PATH && options.metrics) {
        if (!mayReadMetrics(user)) throw metricsForbidden(user);
        if (request.method !== 'GET' && request.method !== 'HEAD') throw methodNotAllowed();
        return await options.metrics.exposition();
      }
      if (user && options.access && isNonResourcePath(url.pathname)) {
        const refusal = await options.access.authorizeAttributes(user, { resourceRequest: false, verb: request.method === 'HEAD' ? 'get' : request.method.toLowerCase(), path: url.pathname });
        if (refusal) throw refusal;
      }
      const discovered = peers.serveDiscovery ? await peers.serveDiscovery(request, url, { gitVersion: options.gitVersion }) : undefined;
      if (discovered) return discovered;
      if (!user) return serveHealth(url, options.gitVersion) ?? errorResponse(new Error('unreachable'));
      info = route(request.method, url);
      options.onRequestFacts?.(request, { info });
      if (isBootstrapper(user) && !user.groups.includes('system:masters')) throw nodeForbidden(user, info, 'a bootstrap token may only request a node credential');
      const refusal = authorize ? await authorize(user, info, { query: url.searchParams }) : undefined;
      if (refusal) throw refusal;
      const ctx: HandlerContext = {
        store: options.store, request, url, query: url.searchParams, info, user, now, admitEviction: options.admitEviction, admit: options.admit, mutate: options.mutate, watchLimits: options.watchLimits, serviceNetwork: network, releases: options.releases,
        access: options.access, tokenIssuer: options.tokenIssuer, reviewToken,
      };
      if (info.subresource === 'log') return await handlePodLog(ctx, options.logSink);
      if (info.subresource !== undefined && info.resource.plural === 'pods' && STREAM_SUBRESOURCES.has(info.subresource)) return await handlePodStream(ctx);
      if (info.resource.notStored) return await handleMetrics(ctx, peers);
      return await HANDLERS[info.verb](ctx, peers);
    } catch (err) {
      return errorResponse(err, info);
    }
  };
}

/**
 * The API server of the current runtime, built once and shared: the HTTP function serves it, and
 * every controller in this process talks to it in-process (no HTTP, no TLS) through an ApiClient
 * under the controllers' identity. One handler means one set of rules for every caller: node
 * authorization, PodDisruptionBudget admission of evictions, the log sink.
 */
import { createApiServer, type ApiHandler } from '../shared/apiserver/index.js';
import { inflightLimitsFromSettings, withInflightLimit } from '../shared/apiserver/inflight.js';
import { createNodeAuthorizer } from '../shared/apiserver/authorize.js';
import { admitEvictionByBudgets } from '../shared/apiserver/disruption.js';
import { ApiClient } from '../shared/controllers/client.js';
import type { ControllerContext } from '../shared/controllers/controller.js';
import { getLogSink, getRuntime, type Runtime } from './runtime.js';

const handlers = new WeakMap<Runtime, Promise<ApiHandler>>();
const contexts = new WeakMap<Runtime, Map<string, ControllerContext>>();

/** apiHandler returns the current runtime's API handler (rebuilt if the runtime was closed and rebuilt). */
export async function apiHandler(): Promise<ApiHandler> {
  const runtime = await getRuntime();
  let handler = handlers.get(runtime);
  if (!handler) {
    handler = getLogSink().then((logSink) => createApiServer({
      store: runtime.store, tokens: runtime.tokens, authorize: createNodeAuthorizer(runtime.store), logSink, admitEviction: admitEvictionByBudgets,
    }));
    handlers.set(runtime, handler);
  }
  return handler;
}

const httpHandlers = new WeakMap<Runtime, Promise<ApiHandler>>();

/**
 * httpApiHandler is apiHandler behind the max-in-flight filter (shared/apiserver/inflight.ts),
 * for requests from outside the process: the in-process controllers call apiHandler directly, as
 * kube-apiserver's loopback client is never shed. Limits come from the settings.
 */
export async function httpApiHandler(): Promise<ApiHandler> {
  const runtime = await getRuntime();
  let handler = httpHandlers.get(runtime);
  if (!handler) {
    handler = apiHandler().then((inner) => withInflightLimit(inner, inflightLimitsFromSettings(process.env)));
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
  const runtime = await getRuntime();
  let byComponent = contexts.get(runtime);
  if (!byComponent) contexts.set(runtime, (byComponent = new Map()));
  let ctx = byComponent.get(component);
  if (!ctx) {
    const client = new ApiClient(await apiHandler(), { baseUrl: 'http://in-process', token: runtime.controllerToken, userAgent: component });
    byComponent.set(component, (ctx = { client, now: () => new Date() }));
  }
  return ctx;
}

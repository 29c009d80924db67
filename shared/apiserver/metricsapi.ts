/**
 * The Metrics API, `metrics.k8s.io/v1beta1`, as metrics-server serves it to `kubectl top` and
 * autoscalers: NodeMetrics (`/apis/metrics.k8s.io/v1beta1/nodes[/<name>]`) and PodMetrics
 * (`.../pods`, `.../namespaces/<ns>/pods[/<name>]`), get and list, label selectors on the nodes'
 * and pods' labels (which the metrics objects carry, as metrics-server's do), field selectors on
 * metadata.name and metadata.namespace.
 *
 * The figures come from the nodes' reports (metricsreport.ts). A report older than
 * METRICS_MAX_AGE_MS by this server's clock is not served (the node stopped reporting), so a
 * node or pod without a fresh sample is absent from lists and 404 on get, as with metrics-server.
 * A pod's figures come only from the report of the node it is bound to, for the uid it has now.
 */
import { findResourceByKind, storageKey, type ResourceType } from '../api/resources.js';
import { notFound } from '../api/status.js';
import { isRecord, readMetadata, type KubeObject } from '../api/objects.js';
import { matchesFilter, parseObjectFilter } from '../api/selectors.js';
import type { Store } from '../store/store.js';
import { cpuQuantity, memoryQuantity, METRICS_MAX_AGE_MS, windowDuration, type NodeMetricsReport, type Usage } from '../metrics/usage.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { REPORT_PREFIX } from './metricsreport.js';
import { decode, listStored } from './storage.js';
import { jsonResponse } from './respond.js';
import { negotiateOutput, renderList, renderOne } from './output.js';

/** METRICS_GROUP is the Metrics API's group. */
export const METRICS_GROUP = 'metrics.k8s.io';
const API_VERSION = 'metrics.k8s.io/v1beta1';
const NODES = findResourceByKind('v1', 'Node')!;
const PODS = findResourceByKind('v1', 'Pod')!;

/** isFresh tells whether a report is recent enough to serve at `now` (by the server's receipt time). */
export function isFresh(report: Readonly<NodeMetricsReport>, now: Date): boolean {
  const received = Date.parse(report.receivedAt ?? report.timestamp);
  return Number.isFinite(received) && now.getTime() - received <= METRICS_MAX_AGE_MS;
}

function usage(u: Usage): Record<string, string> {
  return { cpu: cpuQuantity(u.cpuNanoCores), memory: memoryQuantity(u.memoryBytes) };
}

/** seconds renders a time as metav1.Time does: RFC 3339 to the second. */
function seconds(time: string | Date): string {
  return new Date(time).toISOString().replace(/\.\d+Z$/, 'Z');
}

function metricsMeta(obj: KubeObject, now: Date): Record<string, unknown> {
  const meta = readMetadata(obj);
  return {
    name: meta.name, ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}),
    creationTimestamp: seconds(now), ...(meta.labels ? { labels: meta.labels } : {}),
  };
}

/** nodeMetrics renders a node's NodeMetrics from its report. */
export function nodeMetrics(node: KubeObject, report: Readonly<NodeMetricsReport>, now: Date): KubeObject {
  return {
    kind: 'NodeMetrics', apiVersion: API_VERSION, metadata: metricsMeta(node, now),
    timestamp: seconds(report.timestamp), window: windowDuration(report.windowSeconds), usage: usage(report.usage),
  };
}

/** podMetrics renders a pod's PodMetrics from its node's report; undefined when the report has no entry for the pod as it is now. */
export function podMetrics(pod: KubeObject, report: Readonly<NodeMetricsReport> | undefined, now: Date): KubeObject | undefined {
  const meta = readMetadata(pod);
  const spec = isRecord(pod.spec) ? pod.spec : {};
  if (!report || spec.nodeName !== report.metadata.name) return undefined;
  const entry = report.pods.find((p) => p.uid === meta.uid && p.namespace === meta.namespace && p.name === meta.name);
  if (!entry) return undefined;
  return {
    kind: 'PodMetrics', apiVersion: API_VERSION, metadata: metricsMeta(pod, now),
    timestamp: seconds(report.timestamp), window: windowDuration(report.windowSeconds),
    containers: entry.containers.map((c) => ({ name: c.name, usage: usage(c) })),
  };
}

async function freshReports(store: Store, now: Date): Promise<Map<string, NodeMetricsReport>> {
  const reports = new Map<string, NodeMetricsReport>();
  for (const obj of await listStored(store, REPORT_PREFIX)) {
    const report = obj as unknown as NodeMetricsReport;
    if (isFresh(report, now)) reports.set(report.metadata.name, report);
  }
  return reports;
}

async function freshReport(store: Store, node: string, now: Date): Promise<NodeMetricsReport | undefined> {
  const kv = await store.get(REPORT_PREFIX + node);
  const report = kv?.value as unknown as NodeMetricsReport | undefined;
  return report && isFresh(report, now) ? report : undefined;
}

async function getOne(ctx: HandlerContext, resource: ResourceType): Promise<KubeObject> {
  const { store, info } = ctx;
  const now = ctx.now();
  const name = info.name!;
  // metrics-server's NotFound: `nodemetrics.metrics.k8s.io "n" not found`, `podmetrics.metrics.k8s.io "ns/p" not found`.
  const missing = () => resource.kind === 'NodeMetrics' ? notFound(METRICS_GROUP, 'nodemetrics', name) : notFound(METRICS_GROUP, 'podmetrics', `${info.namespace}/${name}`);
  if (resource.kind === 'NodeMetrics') {
    const kv = await store.get(storageKey(NODES, undefined, name));
    const report = kv && (await freshReport(store, name, now));
    if (!kv || !report) throw missing();
    return nodeMetrics(decode(kv), report, now);
  }
  const kv = await store.get(storageKey(PODS, info.namespace, name));
  if (!kv) throw missing();
  const pod = decode(kv);
  const nodeName = isRecord(pod.spec) && typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : undefined;
  const metrics = nodeName === undefined ? undefined : podMetrics(pod, await freshReport(store, nodeName, now), now);
  if (!metrics) throw missing();
  return metrics;
}

async function listAll(ctx: HandlerContext, resource: ResourceType): Promise<KubeObject[]> {
  const { store, info } = ctx;
  const now = ctx.now();
  const filter = parseObjectFilter(resource.kind, ctx.query);
  const reports = await freshReports(store, now);
  const items: KubeObject[] = [];
  if (resource.kind === 'NodeMetrics') {
    for (const node of await listStored(store, storageKey(NODES))) {
      const report = reports.get(readMetadata(node).name ?? '');
      if (report) items.push(nodeMetrics(node, report, now));
    }
  } else {
    for (const pod of await listStored(store, storageKey(PODS, info.namespace))) {
      const nodeName = isRecord(pod.spec) && typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : '';
      const metrics = podMetrics(pod, reports.get(nodeName), now);
      if (metrics) items.push(metrics);
    }
  }
  return items.filter((m) => matchesFilter(resource.kind, filter, m));
}

/**
 * handleMetrics answers a get or list of the Metrics API (the router allows no other verb: they
 * are 405 there). Tables and metadata-only renderings are negotiated as for any other kind.
 */
export async function handleMetrics(ctx: HandlerContext, peers: Peers): Promise<Response> {
  const { info } = ctx;
  const out = negotiateOutput(ctx.request);
  if (info.verb === 'get') return jsonResponse(renderOne(out, peers, info.resource, ctx.query, await getOne(ctx, info.resource)));
  const items = await listAll(ctx, info.resource);
  return jsonResponse(renderList(out, peers, info.resource, ctx.query, items, {}));
}

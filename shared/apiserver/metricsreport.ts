/**
 * Where node agents put their usage samples. Agents make only outbound connections, so instead of
 * metrics-server scraping each kubelet, each agent pushes one NodeMetricsReport for its node every
 * resolution period (15 s): `PUT /apis/coracle.io/v1/nodemetricsreports/<node>`. The report is
 * kept in the store, one key per node (`/registry/coracle.io/nodemetricsreports/<node>`,
 * overwritten each time), so every API server instance serves the same figures; the Metrics API
 * (metricsapi.ts) reads them back and serves none older than METRICS_MAX_AGE_MS by the server's
 * clock. One write per node per 15 s: fewer than the nodes' Lease renewals (every 10 s).
 *
 * Authorization, as the node authorizer confines kubelets: a node (`system:node:<name>`) may
 * write only the report named after itself, and only for pods bound to it — a report naming a
 * pod bound to another node is refused whole (403); an entry for a pod that is gone or was
 * replaced (another uid) is dropped, since the agent may have sampled just before the delete.
 * `system:masters` may write any report (tests, tools); anyone else gets 403. The path is not a
 * served resource (not in discovery), as nodecredentialrequests is not.
 */
import { findResourceByKind, storageKey } from '../api/resources.js';
import { ApiError, invalid, methodNotAllowed } from '../api/status.js';
import { isRecord } from '../api/objects.js';
import { isStoreError, type Store } from '../store/store.js';
import { NODE_METRICS_REPORT_PATH, reportProblems, type NodeMetricsReport, type PodUsage } from '../metrics/usage.js';
import type { UserInfo } from './context.js';
import { nodeNameOf } from './authorize.js';
import { readBody } from './body.js';
import { jsonResponse } from './respond.js';

/** REPORT_PREFIX is where the reports live in the store, one key per node. */
export const REPORT_PREFIX = '/registry/coracle.io/nodemetricsreports/';
const PODS = findResourceByKind('v1', 'Pod')!;
const MASTERS = 'system:masters';

/** reportNameOf returns the node a report path names, or undefined when the path is not a report path. */
export function reportNameOf(pathname: string): string | undefined {
  if (!pathname.startsWith(`${NODE_METRICS_REPORT_PATH}/`)) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(pathname.slice(NODE_METRICS_REPORT_PATH.length + 1));
  } catch {
    return undefined; // a malformed escape: the router answers it (400)
  }
  return name === '' || name.includes('/') ? undefined : name;
}

function forbidden(user: UserInfo, name: string, reason: string): ApiError {
  return new ApiError(403, 'Forbidden',
    `nodemetricsreports.coracle.io "${name}" is forbidden: User "${user.username}" cannot update resource "nodemetricsreports" in API group "coracle.io" at the cluster scope: ${reason}`,
    { name, group: 'coracle.io', kind: 'nodemetricsreports' });
}

/**
 * boundPods keeps the report's pods that still exist with the same uid; it throws 403 when one
 * of them is bound to a node other than `node`.
 */
async function boundPods(store: Store, user: UserInfo, node: string, pods: readonly PodUsage[]): Promise<PodUsage[]> {
  const checked = await Promise.all(pods.map(async (pod) => {
    const kv = await store.get(storageKey(PODS, pod.namespace, pod.name));
    const meta = isRecord(kv?.value.metadata) ? kv.value.metadata : {};
    if (!kv || meta.uid !== pod.uid) return undefined;
    const bound = isRecord(kv.value.spec) ? kv.value.spec.nodeName : undefined;
    if (bound !== node) throw forbidden(user, node, `pod ${pod.namespace}/${pod.name} is not bound to node '${node}'`);
    return pod;
  }));
  return checked.filter((p): p is PodUsage => p !== undefined);
}

/** saveReport writes the node's report over the previous one (create on the first, compare-and-swap after). */
async function saveReport(store: Store, report: NodeMetricsReport): Promise<void> {
  const key = REPORT_PREFIX + report.metadata.name;
  const value = report as unknown as Record<string, unknown>;
  for (let attempt = 0; ; attempt++) {
    const current = await store.get(key);
    try {
      if (current) await store.update(key, value, current.modRevision);
      else await store.create(key, value);
      return;
    } catch (err) {
      // Two instances writing the same node's report at once (an agent's retry): the later wins.
      if (attempt < 3 && (isStoreError(err, 'Conflict') || isStoreError(err, 'AlreadyExists') || isStoreError(err, 'NotFound'))) continue;
      throw err;
    }
  }
}

/**
 * handleNodeMetricsReport serves `PUT <NODE_METRICS_REPORT_PATH>/<node>`: 200 with the stored
 * report; 403 for another node's report or another node's pod, 422 for a malformed body, 405 for
 * another method.
 */
export async function handleNodeMetricsReport(store: Store, request: Request, user: UserInfo, name: string, now: Date): Promise<Response> {
  if (request.method !== 'PUT') throw methodNotAllowed();
  const requester = nodeNameOf(user);
  const master = user.groups.includes(MASTERS);
  if (!master && requester === undefined) throw forbidden(user, name, 'only nodes report metrics');
  if (!master && requester !== name) throw forbidden(user, name, `node '${requester}' cannot report metrics of node '${name}'`);
  const body = (await readBody(request)).value;
  const problems = reportProblems(body);
  if (problems.length === 0 && (body as NodeMetricsReport).metadata.name !== name) problems.push({ field: 'metadata.name', message: `must be ${name}, the name in the path` });
  if (problems.length > 0) {
    throw invalid('coracle.io', 'NodeMetricsReport', name, problems.map((p) => ({ reason: 'FieldValueInvalid', field: p.field, message: p.message })));
  }
  const sent = body as NodeMetricsReport;
  const report: NodeMetricsReport = {
    apiVersion: 'coracle.io/v1', kind: 'NodeMetricsReport', metadata: { name },
    timestamp: sent.timestamp, windowSeconds: sent.windowSeconds,
    usage: { cpuNanoCores: sent.usage.cpuNanoCores, memoryBytes: sent.usage.memoryBytes },
    pods: await boundPods(store, user, name, sent.pods),
    receivedAt: now.toISOString(),
  };
  await saveReport(store, report);
  return jsonResponse(report);
}

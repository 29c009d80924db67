/**
 * pods/exec, pods/attach and pods/portforward, the API server's half: the stream gateway
 * (shared/streams/gateway.ts) holds the client's WebSocket and asks here, with the client's own
 * credentials, whether the stream may open and where it goes. Authorization is the router's and
 * the authorize hook's, as for any request: `create` on the subresource (upstream authorizes a
 * WebSocket upgrade as `create` since AuthorizePodWebsocketUpgradeCreatePermission). Then the
 * checks kube-apiserver makes before it dials the kubelet (pkg/registry/core/pod/strategy.go,
 * streamLocation): the pod exists (404), names the container or has only one (400), is bound to a
 * node (400 "does not have a host assigned"), and the container runs (400 "container not found",
 * the kubelet's words, here read from the pod's status).
 *
 * A request without STREAM_RESOLVE_HEADER did not come through a gateway, so it carried no
 * upgrade: 400 "Upgrade request required", as kube-apiserver answers a plain POST.
 */
import { ApiError, badRequest } from '../api/status.js';
import { chooseContainer, containerStatusOf } from '../logs/instance.js';
import { isRecord } from '../api/objects.js';
import { STREAM_RESOLVE_HEADER, type StreamKind, type StreamTarget, type TunnelIdentity } from '../streams/gateway.js';
import type { HandlerContext, UserInfo } from './context.js';
import { jsonResponse } from './respond.js';
import { decode, loadObject } from './storage.js';
import { nodeNameOf } from './authorize.js';

const truthy = (v: string | null) => v === 'true' || v === '1';

/** handlePodStream answers the gateway's resolve request with a StreamTarget, or throws the Status the client gets. */
export async function handlePodStream(ctx: HandlerContext): Promise<Response> {
  if (ctx.request.headers.get(STREAM_RESOLVE_HEADER) !== '1') throw badRequest('Upgrade request required');
  const kind = ctx.info.subresource as StreamKind;
  const podName = ctx.info.name ?? '';
  const query = ctx.query;
  const command = query.getAll('command');
  const streams = { stdin: truthy(query.get('stdin')), stdout: truthy(query.get('stdout')), stderr: truthy(query.get('stderr')), tty: truthy(query.get('tty')) };
  if (kind === 'exec' && command.length === 0) throw badRequest('you must specify at least 1 command');
  if (kind !== 'portforward' && !streams.stdin && !streams.stdout && !streams.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  const ports = query.getAll('ports').flatMap((p) => p.split(',')).filter((p) => p !== '').map((p) => {
    const port = Number(p);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw badRequest(`invalid port "${p}"`);
    return port;
  });
  const pod = decode(await loadObject(ctx));
  const container = kind === 'portforward' ? '' : chooseContainer(pod, podName, query.get('container') ?? undefined);
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const node = typeof spec.nodeName === 'string' ? spec.nodeName : '';
  if (node === '') throw badRequest(`pod ${podName} does not have a host assigned`);
  if (kind !== 'portforward') {
    const state = containerStatusOf(pod, container)?.state;
    if (!isRecord(state) || !isRecord(state.running)) throw badRequest(`unable to upgrade connection: container not found ("${container}")`);
  }
  const meta = isRecord(pod.metadata) ? pod.metadata : {};
  const target: StreamTarget = {
    kind, node, namespace: ctx.info.namespace ?? 'default', pod: podName, podUid: String(meta.uid ?? ''), container,
    command, ...streams, ports,
  };
  return jsonResponse(target);
}

/**
 * handleTunnelIdentity answers the gateway's question about an agent dialling its tunnel: which
 * node its credential names. Only node identities may hold a tunnel (403 otherwise).
 */
export function handleTunnelIdentity(user: UserInfo): Response {
  const node = nodeNameOf(user);
  if (node === undefined) throw new ApiError(403, 'Forbidden', `User "${user.username}" cannot open a stream tunnel: only a node's agent may`);
  const identity: TunnelIdentity = { node };
  return jsonResponse(identity);
}

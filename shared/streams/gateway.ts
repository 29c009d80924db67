/**
 * The stream gateway port: where `pods/exec`, `pods/attach` and `pods/portforward` connections
 * (long-lived WebSockets) are served, apart from the API server's HTTP functions, which cannot
 * hold a WebSocket on Azure. A gateway:
 *
 * 1. accepts the agents' tunnels: each node's agent dials OUT to the gateway (it has no public
 *    address, as with Kubernetes' konnectivity) and keeps one control connection open;
 * 2. accepts a client's stream upgrade, asks the API server to authenticate, authorize and
 *    resolve it (`resolveStream`: a POST to the same path with STREAM_RESOLVE_HEADER, answered
 *    with a StreamTarget or a Status), and answers a refusal as that Status;
 * 3. asks the pod's node, over its control connection, to open a data connection for the stream
 *    (`TunnelOpen`); the agent dials `STREAM_TUNNEL_PATH/<id>`, and the gateway relays messages
 *    between the two WebSockets unchanged (the agent speaks the channel protocol, channel.ts).
 *
 * One data connection per stream, rather than streams multiplexed over the control connection:
 * each stream gets its own flow control (a `kubectl cp` of a large file does not hold up another
 * user's shell), at the price of one more connection set-up per stream.
 *
 * Adapters: the local gateway (local/stream-gateway.ts) on the local host's server, or on the
 * front of `coracle up --instances N`; on Azure, a small always-on gateway (README).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** STREAM_TUNNEL_PATH is where agents dial: the control connection here, a stream's data connection at `<path>/<id>`. */
export const STREAM_TUNNEL_PATH = '/coracle/stream-tunnel';
/** STREAM_RESOLVE_HEADER marks the gateway's resolve request to the API server (value `1`). */
export const STREAM_RESOLVE_HEADER = 'x-coracle-stream-resolve';

/** StreamKind is what a stream does in the container. */
export type StreamKind = 'exec' | 'attach' | 'portforward';

/** STREAM_SUBRESOURCES are the pod subresources served through the stream gateway. */
export const STREAM_SUBRESOURCES: ReadonlySet<string> = new Set<StreamKind>(['exec', 'attach', 'portforward']);

/** StreamTarget is a resolved, authorized stream: which node, pod and container, and what to run. */
export interface StreamTarget {
  kind: StreamKind;
  node: string;
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  /** exec only: the command and its arguments. */
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** portforward only: the ports asked for. */
  ports: number[];
}

/** TunnelIdentity is what the API server answers for an agent's tunnel: the node its credential names. */
export interface TunnelIdentity {
  node: string;
}

/** TunnelOpen is the control message (JSON text) asking an agent to open the data connection `id`. */
export interface TunnelOpen {
  type: 'open';
  id: string;
  /** The subprotocol agreed with the client (channel.ts). */
  protocol: string;
  target: StreamTarget;
}

/** StreamResolver asks the API server about a request (a fetch-style call to an HTTP instance). */
export type StreamResolver = (request: Request) => Promise<Response>;

/** StreamGateway is the port: a server hands it every HTTP upgrade request it receives. */
export interface StreamGateway {
  /**
   * handleUpgrade serves one upgrade request: an agent's tunnel (STREAM_TUNNEL_PATH) or a
   * client's stream. Anything else is answered 404. It never throws; failures are answered as a
   * Status on the socket.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** nodes lists the nodes whose agents hold a tunnel open now. */
  nodes(): string[];
  /** close ends every tunnel and stream. */
  close(): Promise<void>;
}

/** isTunnelOpen tells whether a control message is a TunnelOpen. */
export function isTunnelOpen(value: unknown): value is TunnelOpen {
  const v = value as Partial<TunnelOpen> | null;
  return typeof v === 'object' && v !== null && v.type === 'open' && typeof v.id === 'string' && typeof v.protocol === 'string' && typeof v.target === 'object';
}

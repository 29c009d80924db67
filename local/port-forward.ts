/**
 * `kubectl port-forward` at the stream gateway. kubectl v1.35 speaks SPDY/3.1 for it, either
 * inside a WebSocket (subprotocol `SPDY/3.1+portforward.k8s.io`, its first try) or, when that is
 * refused, as a plain SPDY/3.1 upgrade: both carry the same session, served here by the
 * spdy-transport library. kubectl opens two SPDY streams per local connection, with headers
 * `streamtype` (`error` or `data`), `port` and `requestid`; each data stream becomes one data
 * connection from the pod's agent (which connects to the pod's IP and port), relayed byte for
 * byte; a failure is written on the request's error stream, as the kubelet does.
 */
import type { Duplex } from 'node:stream';
import transport, { type SpdyConnection, type SpdyStream } from 'spdy-transport';
import { createWebSocketStream, type WebSocket } from 'ws';
import type { StreamTarget } from '../shared/streams/gateway.js';

/** PORT_FORWARD_WEBSOCKET_PROTOCOL is the WebSocket subprotocol kubectl offers for port-forward. */
export const PORT_FORWARD_WEBSOCKET_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
/** PORT_FORWARD_SPDY_PROTOCOL is the X-Stream-Protocol-Version of a plain SPDY port-forward. */
export const PORT_FORWARD_SPDY_PROTOCOL = 'portforward.k8s.io';

/** Dial asks the pod's node for a data connection to one port. */
export type PortDial = (target: StreamTarget) => Promise<WebSocket>;

/**
 * acceptStreamsWithoutPath lets the parser take kubectl's SYN_STREAMs, which carry only
 * `streamtype`, `port` and `requestid` (Go's spdystream sends no `:method` or `:path`, which
 * spdy-transport requires of an HTTP-over-SPDY request): the connection's own parser gets
 * placeholders for both before its check. This reaches into the library's per-connection state
 * (`_spdyState.parser`, stable since spdy-transport 2), which is why it is done in one place.
 */
function acceptStreamsWithoutPath(connection: SpdyConnection): void {
  type Parser = { parseKVs(buffer: unknown, callback: (err: Error | null, headers?: Record<string, string>) => void): void };
  const parser = (connection as unknown as { _spdyState: { parser: Parser } })._spdyState.parser;
  const parseKVs = parser.parseKVs.bind(parser);
  parser.parseKVs = (buffer, callback) => parseKVs(buffer, (err, headers) => callback(err, err ? headers : { ':method': 'POST', ':path': '/', ...headers }));
}

/** statusMessage reads the message of a dial failure (a Status's JSON text). */
function statusMessage(err: unknown): string {
  try {
    return String((JSON.parse(String(err)) as { message?: unknown }).message ?? err);
  } catch {
    return String(err);
  }
}

/** servePortForward serves one kubectl port-forward session on `session` (the WebSocket's byte stream, or the upgraded socket). */
export function servePortForward(session: Duplex, target: StreamTarget, dial: PortDial, log: (message: string) => void): void {
  const connection = transport.connection.create(session, { protocol: 'spdy', isServer: true });
  acceptStreamsWithoutPath(connection);
  connection.start(3.1);
  const errors = new Map<string, SpdyStream>();
  connection.on('error', (err) => log(`port-forward session: ${err.message}`));
  session.once('close', () => connection.end());
  connection.on('stream', (stream) => {
    const { streamtype: type, port, requestid: id = '' } = stream.headers;
    stream.respond(200, {});
    stream.on('error', () => undefined);
    if (type === 'error') {
      errors.set(id, stream);
      stream.resume();
      stream.once('close', () => errors.delete(id));
      return;
    }
    if (type !== 'data') return stream.destroy();
    const fail = (message: string) => {
      const errorStream = errors.get(id);
      errorStream?.end(message);
      stream.end();
    };
    const wanted = Number(port);
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > 65535) return fail(`invalid port "${port}"`);
    dial({ ...target, ports: [wanted] }).then((agent) => {
      agent.once('close', (code: number, reason: Buffer) => {
        if (code !== 1000 && code !== 1005) fail(reason.toString() || `error forwarding port ${wanted} to pod ${target.pod}`);
        else errors.get(id)?.end();
      });
      const bytes = createWebSocketStream(agent);
      bytes.on('error', () => stream.destroy());
      stream.pipe(bytes).pipe(stream);
      agent.resume();
    }, (err: unknown) => fail(`error forwarding port ${wanted} to pod ${target.pod}: ${statusMessage(err)}`));
  });
}

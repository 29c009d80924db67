/**
 * The agent's end of the stream tunnel (shared/streams/gateway.ts): it dials OUT to the stream
 * gateway and keeps a control connection open (dialling again, with back-off, whenever it drops);
 * for every TunnelOpen it dials the stream's data connection and runs the exec or attach in the
 * runtime, speaking the channel protocol (shared/streams/channel.ts) with the client through the
 * gateway. When the command ends, the error stream carries its Status (with the exit code) and
 * the connection closes. A runtime that cannot run streams (simulated nodes) answers every stream
 * with a Status saying so.
 */
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { WebSocket, createWebSocketStream, type RawData } from 'ws';
import { CHANNEL, decodeMessage, encodeData, exitStatus, failureStatus, parseResize, successStatus, type TerminalSize } from '../shared/streams/channel.js';
import { STREAM_TUNNEL_PATH, isTunnelOpen, type StreamTarget, type TunnelOpen } from '../shared/streams/gateway.js';
import { hasStreams, RuntimeError, type ContainerStreamIO, type Runtime } from './runtime/runtime.js';

/** StreamTunnelOptions configure the tunnel. */
export interface StreamTunnelOptions {
  /** The gateway's base URL (the API server's in `coracle up`): https://host:port. */
  gateway: string;
  token: string;
  caPem?: string;
  runtime: Runtime;
  nodeName: string;
  log: (message: string) => void;
}

const MAX_BACKOFF_MS = 10_000;

/** wsUrl turns the gateway's https URL into the wss URL of `path`. */
function wsUrl(base: string, path: string): string {
  const url = new URL(path, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** StreamTunnel keeps the node's control connection and serves its streams. */
export class StreamTunnel {
  private control: WebSocket | undefined;
  private stopped = false;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private readonly streams = new Set<WebSocket>();
  private connectedOnce: (() => void) | undefined;
  /** connected resolves once the first control connection is open (tests wait on it). */
  readonly connected: Promise<void> = new Promise((resolve) => (this.connectedOnce = resolve));

  constructor(private readonly o: StreamTunnelOptions) {}

  /** start dials the gateway; it returns at once and keeps dialling until stop. */
  start(): void {
    this.dial();
  }

  /** stop closes the control connection and every stream. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.control?.close(1000, 'agent stopping');
    for (const ws of this.streams) ws.terminate();
  }

  private connect(path: string): WebSocket {
    return new WebSocket(wsUrl(this.o.gateway, path), { headers: { authorization: `Bearer ${this.o.token}` }, ca: this.o.caPem, perMessageDeflate: false });
  }

  private dial(): void {
    if (this.stopped) return;
    const ws = this.connect(STREAM_TUNNEL_PATH);
    this.control = ws;
    ws.once('open', () => {
      this.failures = 0;
      this.connectedOnce?.();
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      let open: unknown;
      try {
        open = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (isTunnelOpen(open)) this.serve(open);
    });
    ws.once('unexpected-response', (_req, res) => {
      this.o.log(`stream tunnel refused: HTTP ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('error', () => undefined); // 'close' follows and dials again
    ws.once('close', () => {
      if (this.stopped) return;
      const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.failures++);
      this.retry = setTimeout(() => this.dial(), delay);
      this.retry.unref();
    });
  }

  /** serve dials the stream's data connection and runs it. */
  private serve(open: TunnelOpen): void {
    const ws = this.connect(`${STREAM_TUNNEL_PATH}/${open.id}`);
    this.streams.add(ws);
    ws.once('close', () => this.streams.delete(ws));
    ws.on('error', (err) => this.o.log(`stream ${open.id}: ${err.message}`));
    ws.once('open', () => {
      void runStream(ws, open, this.o.runtime, this.o.nodeName).catch((err: unknown) => this.o.log(`stream ${open.id}: ${(err as Error).message}`));
    });
  }
}

/** channelWriter is a Writable whose chunks go out as data messages of `channel`, with back-pressure. */
function channelWriter(ws: WebSocket, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (ws.readyState !== WebSocket.OPEN) return callback();
      ws.send(encodeData(channel, chunk), { binary: true }, () => callback());
    },
  });
}

/**
 * forwardPort connects to the pod's IP at the one port asked for and relays bytes both ways; a
 * failure closes the connection with code 1011 and the kubelet's kind of message as the reason,
 * which the gateway writes on kubectl's error stream.
 */
async function forwardPort(ws: WebSocket, target: StreamTarget, runtime: Runtime): Promise<void> {
  // Hold the client's bytes until the pod's port is connected (the stream resumes the socket when read).
  ws.pause();
  const port = target.ports[0] ?? 0;
  // Resumed first: a paused socket would not read the gateway's answering close frame.
  const fail = (why: string) => {
    ws.resume();
    // A close reason is at most 123 bytes.
    ws.close(1011, `error forwarding port ${port} to pod ${target.pod}, uid ${target.podUid}: ${why}`.slice(0, 120));
  };
  if (!hasStreams(runtime)) return fail('the node runs simulated pods');
  const ip = (await runtime.getPodStatus(target.namespace, target.pod).catch(() => undefined))?.podIP;
  if (!ip) return fail('the pod has no IP on this node');
  const socket = net.connect(port, ip);
  socket.once('error', (err) => fail(err.message));
  socket.once('connect', () => {
    const bytes = createWebSocketStream(ws);
    bytes.on('error', () => socket.destroy());
    socket.pipe(bytes).pipe(socket);
  });
  ws.once('close', () => socket.destroy());
}

/** flushed ends a writer and resolves once everything written to it has been sent. */
function flushed(writer: Writable): Promise<void> {
  return new Promise((resolve) => {
    writer.once('finish', () => resolve());
    writer.once('error', () => resolve());
    writer.end();
  });
}

/**
 * runStream runs one exec or attach on an open data connection: client messages feed stdin and
 * resizes; output goes back on stdout and stderr; the error stream gets the final Status.
 */
export async function runStream(ws: WebSocket, open: TunnelOpen, runtime: Runtime, nodeName: string): Promise<void> {
  const { target } = open;
  if (target.kind === 'portforward') return forwardPort(ws, target, runtime);
  const stdin = target.stdin ? new PassThrough() : undefined;
  const resizeListeners: Array<(size: TerminalSize) => void> = [];
  // kubectl sends the terminal's size as soon as the stream opens, before the exec has started: the last one is kept for it.
  let lastSize: TerminalSize | undefined;
  const left = new AbortController();
  ws.on('message', (data: RawData) => {
    const message = decodeMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
    if (!message) return;
    if (message.kind === 'close') {
      if (message.channel === CHANNEL.stdin) stdin?.end();
      return;
    }
    if (message.channel === CHANNEL.stdin) stdin?.write(message.data);
    else if (message.channel === CHANNEL.resize) {
      const size = parseResize(message.data);
      if (size) {
        lastSize = size;
        for (const listener of resizeListeners) listener(size);
      }
    }
  });
  ws.once('close', () => {
    // The client left: its stdin ends (v4 has no close message; this is its only end of input).
    stdin?.end();
    left.abort();
  });
  const io: ContainerStreamIO = {
    stdin,
    stdout: target.stdout ? channelWriter(ws, CHANNEL.stdout) : undefined,
    stderr: target.stderr && !target.tty ? channelWriter(ws, CHANNEL.stderr) : undefined,
    onResize: (listener) => {
      resizeListeners.push(listener);
      if (lastSize) listener(lastSize);
    },
  };
  const request = { namespace: target.namespace, podName: target.pod, podUid: target.podUid, container: target.container, tty: target.tty };
  let status: Record<string, unknown>;
  try {
    if (!hasStreams(runtime)) {
      status = failureStatus(`node "${nodeName}" runs simulated pods: there is no container to ${target.kind} into`, 400, 'BadRequest');
    } else if (target.kind === 'exec') {
      const exitCode = await runtime.exec({ ...request, command: target.command }, io);
      status = exitCode === 0 ? successStatus() : exitStatus(target.command, exitCode);
    } else if (target.kind === 'attach') {
      await runtime.attach(request, io, left.signal);
      status = successStatus();
    } else {
      status = failureStatus(`${target.kind} is not served by this agent`, 400, 'BadRequest');
    }
  } catch (err) {
    const notFound = err instanceof RuntimeError && err.reason === 'NotFound';
    status = failureStatus(notFound ? `unable to upgrade connection: ${err.message}` : String((err as Error).message), notFound ? 404 : 500, notFound ? 'NotFound' : 'InternalError');
  }
  // Output still queued in the writers goes out before the Status.
  await Promise.all([io.stdout, io.stderr].map((w) => (w ? flushed(w as Writable) : undefined)));
  if (ws.readyState === WebSocket.OPEN) {
    await new Promise<void>((resolve) => ws.send(encodeData(CHANNEL.error, JSON.stringify(status)), { binary: true }, () => resolve()));
    ws.close(1000);
  }
}

/**
 * The single-process control plane's listening socket, held across handovers. `coracle up` (one
 * process) moves onto another release by stopping and starting that release's `coracle up` as
 * its child (cli/coracle.ts). If the port were closed and bound again, every request in that gap
 * would be refused. Instead the first process binds the port once and keeps it for its life
 * (HeldListener), and each server of the moment takes the accepted connections from it:
 *
 * - in the first process, the local host itself (ConnectionSource.attach, the host emits each
 *   socket on its HTTPS server as if it had accepted it);
 * - in a handed-over child, over the IPC channel: the parent passes each socket's descriptor
 *   (Node's `send(message, socket)`), the child's host takes it (connectionsFromParent).
 *
 * While nothing is attached (the old release stopping, the new one starting) connections are
 * accepted and kept, unread (`pauseOnConnect`), and handed to the next server once it is ready:
 * a client sees a slow TLS handshake, not a refused connection. A child that stops hands any
 * socket that still reaches it back to the parent.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/** ConnectionSource hands accepted TCP connections to a server that does not listen itself. */
export interface ConnectionSource {
  /** The port the connections arrive on. */
  readonly port: number;
  /** attach routes every connection (those kept meanwhile first) to `onConnection` until the returned detach is called. */
  attach(onConnection: (socket: net.Socket) => void): () => void;
}

/**
 * LISTEN_RETRY_MS is how long a given port that is in use is tried again: the process that held it
 * may still be stopping (a control plane handing over to another release, which is stopped in turn
 * when its parent is killed, while that parent's replacement starts).
 */
const LISTEN_RETRY_MS = 15_000;

/** listen binds `server` to host:port, trying a port in use again for LISTEN_RETRY_MS; it resolves with the port bound. */
export async function listen(server: net.Server, port: number, host: string): Promise<number> {
  const deadline = Date.now() + LISTEN_RETRY_MS;
  for (;;) {
    try {
      return await listenOnce(server, port, host);
    } catch (err) {
      if (port === 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function listenOnce(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(Object.assign(new Error(`port ${port} on ${host} is already in use (tried for ${LISTEN_RETRY_MS / 1000} s)`), { code: err.code }));
      else reject(err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** HeldListener is a port bound for the life of the process; connections wait while no server is attached. */
export class HeldListener implements ConnectionSource {
  private readonly waiting: net.Socket[] = [];
  private target: ((socket: net.Socket) => void) | undefined;

  private constructor(private readonly server: net.Server, readonly port: number) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** open binds host:port (0: any free port). */
  static async open(port: number, host: string): Promise<HeldListener> {
    const server = net.createServer({ pauseOnConnect: true });
    return new HeldListener(server, await listen(server, port, host));
  }

  /** waitingCount is how many connections wait for a server now. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** accept routes one connection: to the attached server, or into the wait. */
  accept(socket: net.Socket): void {
    if (this.target) this.target(socket);
    else this.waiting.push(socket);
  }

  attach(onConnection: (socket: net.Socket) => void): () => void {
    this.target = onConnection;
    for (const socket of this.waiting.splice(0)) onConnection(socket);
    return () => {
      if (this.target === onConnection) this.target = undefined;
    };
  }

  /** close stops listening and drops the connections still waiting. */
  close(): Promise<void> {
    for (const socket of this.waiting.splice(0)) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** SOCKET and READY are the IPC messages of the hand-off between a first process and its child. */
const SOCKET = 'coracle.listener.socket';
const READY = 'coracle.listener.ready';

const typeOf = (m: unknown): unknown => (typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined);

/**
 * feedChild gives `child`'s server the held connections once it says it is ready, and keeps them
 * again when `stopFeeding` is called (it hands over in turn) or it exits. Sockets it hands back go
 * back into the held listener.
 */
export function feedChild(held: HeldListener, child: ChildProcess): { stopFeeding(): void } {
  let detach: (() => void) | undefined;
  const stopFeeding = () => {
    detach?.();
    detach = undefined;
  };
  child.on('message', (m: unknown, handle: unknown) => {
    if (typeOf(m) === READY) detach = held.attach((socket) => child.send({ type: SOCKET }, socket, undefined, (err) => (err ? socket.destroy() : undefined)));
    else if (typeOf(m) === SOCKET && handle instanceof net.Socket) held.accept(handle);
  });
  child.once('exit', stopFeeding);
  return { stopFeeding };
}

/** connectionsFromParent is a handed-over child's ConnectionSource: the sockets its parent passes over the IPC channel. */
export function connectionsFromParent(port: number): ConnectionSource {
  return {
    port,
    attach(onConnection) {
      let attached = true;
      const onMessage = (m: unknown, handle: unknown) => {
        if (typeOf(m) !== SOCKET || !(handle instanceof net.Socket)) return;
        if (attached) onConnection(handle);
        else process.send?.({ type: SOCKET }, handle); // stopping: back to the parent, for the next server
      };
      process.on('message', onMessage);
      process.send?.({ type: READY });
      return () => {
        attached = false;
      };
    },
  };
}

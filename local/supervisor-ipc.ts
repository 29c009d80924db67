/**
 * The ports an instance of `coracle up --instances N` reaches across the process boundary: the
 * agents are children of `coracle up` (the supervisor owns the LocalNodeProvider, as the
 * single-process host does) and so are the instances themselves (the supervisor is their
 * ControlPlaneHost), while the upgrade activities that call both run in the durable instance. That
 * instance gets an IpcNodeProvider and an IpcControlPlaneHost that send each call over the IPC
 * channel its supervisor opened, and the supervisor answers with its own (serveSupervisor). On
 * Azure the same ports are the ARM adapter and the package deployment, called from whichever
 * instance runs the activity.
 */
import type { ChildProcess } from 'node:child_process';
import { NodeProviderError, type NodeProvider, type NodeProviderErrorReason, type ProvidedNode } from '../shared/nodes/provider.js';
import type { ControlPlaneHost } from '../shared/release/control-plane.js';

const CALL = 'coracle.supervisor.call';
const RESULT = 'coracle.supervisor.result';

type Target = 'nodes' | 'controlPlane';
interface CallMessage { type: typeof CALL; id: number; target: Target; op: string; args: string[] }
interface ResultMessage { type: typeof RESULT; target: Target; id: number; value?: unknown; error?: { reason?: NodeProviderErrorReason; message: string } }

const isMessage = <T extends { type: string }>(m: unknown, type: string): m is T => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;

/** SupervisorPorts are what the supervisor serves (undefined while it has none). */
export interface SupervisorPorts {
  nodes?: () => NodeProvider | undefined;
  controlPlane?: () => ControlPlaneHost | undefined;
}

function dispatch(ports: SupervisorPorts, m: CallMessage): Promise<unknown> {
  const [a = '', b = '', c = ''] = m.args;
  if (m.target === 'nodes') {
    const p = ports.nodes?.();
    if (!p) throw new NodeProviderError('Unavailable', 'coracle up runs no local nodes (start it with --nodes N)');
    if (m.op === 'list') return p.list(a);
    if (m.op === 'add') return p.add(a, b);
    if (m.op === 'replace') return p.replace(a, b, c);
    if (m.op === 'remove') return p.remove(a, b);
  } else if (m.target === 'controlPlane') {
    const h = ports.controlPlane?.();
    if (!h) throw new Error('this coracle up cannot move its control plane');
    if (m.op === 'running') return h.running();
    if (m.op === 'moveTo') return h.moveTo(a);
  }
  throw new Error(`unknown supervisor call ${m.target}.${m.op}`);
}

/** serveSupervisor answers `child`'s calls with the supervisor's ports. */
export function serveSupervisor(child: ChildProcess, ports: SupervisorPorts): void {
  child.on('message', (m: unknown) => {
    if (!isMessage<CallMessage>(m, CALL)) return;
    const reply = (r: Omit<ResultMessage, 'type' | 'id' | 'target'>) => {
      if (child.connected) child.send({ ...r, type: RESULT, target: m.target, id: m.id });
    };
    Promise.resolve().then(() => dispatch(ports, m)).then(
      (value) => reply({ value: value ?? null }),
      (err: unknown) => reply({ error: { reason: err instanceof NodeProviderError ? err.reason : undefined, message: (err as Error).message ?? String(err) } }),
    );
  });
}

/** SupervisorChannel sends calls to the supervisor over this process's IPC channel; errors come back as `toError` makes them. */
class SupervisorChannel {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly onMessage = (m: unknown) => {
    if (!isMessage<ResultMessage>(m, RESULT) || m.target !== this.target) return;
    const waiter = this.pending.get(m.id);
    if (!waiter) return;
    this.pending.delete(m.id);
    if (m.error) waiter.reject(this.toError(m.error.message, m.error.reason));
    else waiter.resolve(m.value);
  };

  constructor(private readonly target: Target, private readonly toError: (message: string, reason?: NodeProviderErrorReason) => Error, private readonly channel: NodeJS.Process) {
    if (!channel.send) throw new Error('this process has no IPC channel to its supervisor');
    channel.on('message', this.onMessage);
  }

  call<T>(op: string, ...args: string[]): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const message: CallMessage = { type: CALL, id, target: this.target, op, args };
      this.channel.send!(message, undefined, {}, (err: Error | null) => {
        if (!err) return;
        this.pending.delete(id);
        reject(this.toError(`the supervisor could not be reached: ${err.message}`, 'Unavailable'));
      });
    });
  }

  close(): void {
    this.channel.off('message', this.onMessage);
    for (const waiter of this.pending.values()) waiter.reject(this.toError('the channel to the supervisor was closed', 'Unavailable'));
    this.pending.clear();
  }
}

/** IpcNodeProvider is the NodeProvider of an instance process whose supervisor owns the machines. */
export class IpcNodeProvider implements NodeProvider {
  private readonly channel: SupervisorChannel;

  constructor(channel: NodeJS.Process = process) {
    this.channel = new SupervisorChannel('nodes', (message, reason) => new NodeProviderError(reason ?? 'Unavailable', message), channel);
  }

  list(pool: string): Promise<ProvidedNode[]> {
    return this.channel.call('list', pool);
  }

  add(pool: string, version: string): Promise<ProvidedNode> {
    return this.channel.call('add', pool, version);
  }

  replace(pool: string, name: string, version: string): Promise<ProvidedNode> {
    return this.channel.call('replace', pool, name, version);
  }

  async remove(pool: string, name: string): Promise<void> {
    await this.channel.call('remove', pool, name);
  }

  /** close stops listening; the machines are the supervisor's and stay. */
  async close(): Promise<void> {
    this.channel.close();
  }
}

/** IpcControlPlaneHost is the ControlPlaneHost of an instance process: its supervisor runs the instances. */
export class IpcControlPlaneHost implements ControlPlaneHost {
  private readonly channel: SupervisorChannel;

  constructor(channel: NodeJS.Process = process) {
    this.channel = new SupervisorChannel('controlPlane', (message) => new Error(message), channel);
  }

  async running(): Promise<string | undefined> {
    return (await this.channel.call<string | null>('running')) ?? undefined;
  }

  async moveTo(version: string): Promise<void> {
    await this.channel.call('moveTo', version);
  }
}

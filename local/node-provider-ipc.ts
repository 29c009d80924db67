/**
 * The NodeProvider across the process boundary of `coracle up --instances N`: the agents are
 * children of `coracle up` (the supervisor owns the LocalNodeProvider, as the single-process host
 * does), while upgrade activities run in the durable instance. That instance gets an
 * IpcNodeProvider that sends each call over the IPC channel its supervisor opened, and the
 * supervisor answers with its provider (serveNodeProvider). On Azure the same port is the ARM
 * adapter, called from whichever instance runs the activity.
 */
import type { ChildProcess } from 'node:child_process';
import { NodeProviderError, type NodeProvider, type NodeProviderErrorReason, type ProvidedNode } from '../shared/nodes/provider.js';

const CALL = 'coracle.nodeProvider.call';
const RESULT = 'coracle.nodeProvider.result';

type Op = 'list' | 'add' | 'replace' | 'remove';
interface CallMessage { type: typeof CALL; id: number; op: Op; args: string[] }
interface ResultMessage { type: typeof RESULT; id: number; value?: unknown; error?: { reason: NodeProviderErrorReason; message: string } }

const isMessage = <T extends { type: string }>(m: unknown, type: string): m is T => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;

/** serveNodeProvider answers `child`'s calls with `provider()` (Unavailable while there is none). */
export function serveNodeProvider(child: ChildProcess, provider: () => NodeProvider | undefined): void {
  child.on('message', (m: unknown) => {
    if (!isMessage<CallMessage>(m, CALL)) return;
    const reply = (r: Omit<ResultMessage, 'type' | 'id'>) => {
      if (child.connected) child.send({ type: RESULT, id: m.id, ...r });
    };
    const p = provider();
    if (!p) {
      reply({ error: { reason: 'Unavailable', message: 'coracle up runs no local nodes (start it with --nodes N)' } });
      return;
    }
    const [a = '', b = '', c = ''] = m.args;
    const run = m.op === 'list' ? p.list(a) : m.op === 'add' ? p.add(a, b) : m.op === 'replace' ? p.replace(a, b, c) : p.remove(a, b);
    (run as Promise<unknown>).then(
      (value) => reply({ value: value ?? null }),
      (err: unknown) => reply({ error: { reason: err instanceof NodeProviderError ? err.reason : 'Unavailable', message: (err as Error).message ?? String(err) } }),
    );
  });
}

/** IpcNodeProvider is the NodeProvider of an instance process whose supervisor owns the machines. */
export class IpcNodeProvider implements NodeProvider {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly onMessage = (m: unknown) => {
    if (!isMessage<ResultMessage>(m, RESULT)) return;
    const waiter = this.pending.get(m.id);
    if (!waiter) return;
    this.pending.delete(m.id);
    if (m.error) waiter.reject(new NodeProviderError(m.error.reason, m.error.message));
    else waiter.resolve(m.value);
  };

  constructor(private readonly channel: NodeJS.Process = process) {
    if (!channel.send) throw new Error('IpcNodeProvider: this process has no IPC channel to its supervisor');
    channel.on('message', this.onMessage);
  }

  private call<T>(op: Op, ...args: string[]): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const message: CallMessage = { type: CALL, id, op, args };
      this.channel.send!(message, undefined, {}, (err: Error | null) => {
        if (!err) return;
        this.pending.delete(id);
        reject(new NodeProviderError('Unavailable', `the supervisor could not be reached: ${err.message}`, { cause: err }));
      });
    });
  }

  list(pool: string): Promise<ProvidedNode[]> {
    return this.call('list', pool);
  }

  add(pool: string, version: string): Promise<ProvidedNode> {
    return this.call('add', pool, version);
  }

  replace(pool: string, name: string, version: string): Promise<ProvidedNode> {
    return this.call('replace', pool, name, version);
  }

  async remove(pool: string, name: string): Promise<void> {
    await this.call('remove', pool, name);
  }

  /** close stops listening; the machines are the supervisor's and stay. */
  async close(): Promise<void> {
    this.channel.off('message', this.onMessage);
    for (const waiter of this.pending.values()) waiter.reject(new NodeProviderError('Unavailable', 'the node provider was closed'));
    this.pending.clear();
  }
}

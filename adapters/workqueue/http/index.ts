/**
 * The agent side of the embedded queue: a WorkQueue that talks to the local host's queue server
 * (`local/queue-server.ts`) over HTTPS, verifying the server with the cluster CA and
 * authenticating with the node's bearer token.
 *
 * Long waits are split into polls of at most the server's cap; an aborted receive cancels its
 * request (the server then stops waiting and takes nothing). A network failure is Unavailable;
 * the server's `{reason}` answers map back to the same WorkQueueError reasons.
 */
import http from 'node:http';
import https from 'node:https';
import { WorkQueueError, type DeadLetter, type QueueMessage, type ReceiveOptions, type WorkQueue, type WorkQueueErrorReason } from '../../../shared/workqueue/queue.js';

/** HttpWorkQueueOptions say where the queue server is and who is calling. */
export interface HttpWorkQueueOptions {
  /** The local host's base URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** The node's (or admin's) bearer token. */
  token: string;
  /** The cluster CA (PEM) that signed the server's certificate; the system's CAs without it. */
  ca?: string;
  /** The queue server's mount point (default `/coracle/queues/`). */
  prefix?: string;
  /** The longest single long poll (default 50 000 ms, the server's cap). */
  maxPollMs?: number;
}

const REASONS: ReadonlySet<string> = new Set<WorkQueueErrorReason>(['LockLost', 'Unavailable', 'BadRequest', 'Unauthorized', 'Forbidden']);
/** How long past the requested wait a request may take before it counts as lost. */
const REQUEST_SLACK_MS = 30_000;

interface Answer {
  status: number;
  body: unknown;
}

/** HttpWorkQueue is the HTTP client of the embedded queue; it keeps the WorkQueue contract. */
export class HttpWorkQueue implements WorkQueue {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly closing = new AbortController();
  private readonly maxPollMs: number;

  constructor(private readonly options: HttpWorkQueueOptions) {
    this.base = new URL(options.prefix ?? '/coracle/queues/', options.server);
    this.agent = this.base.protocol === 'https:' ? new https.Agent({ keepAlive: true, ca: options.ca }) : new http.Agent({ keepAlive: true });
    this.maxPollMs = options.maxPollMs ?? 50_000;
  }

  async send(queue: string, body: Record<string, unknown>): Promise<void> {
    await this.call('POST', queue, 'messages', { body });
  }

  async receive(queue: string, options: ReceiveOptions = {}): Promise<QueueMessage[]> {
    const deadline = Date.now() + Math.max(0, options.waitMs ?? 0);
    for (;;) {
      const waitMs = Math.min(Math.max(0, deadline - Date.now()), this.maxPollMs);
      let answer: unknown;
      try {
        answer = await this.call('POST', queue, 'receive', { maxMessages: options.maxMessages, waitMs }, options.signal, waitMs);
      } catch (err) {
        if (options.signal?.aborted && !this.closing.signal.aborted) return [];
        throw err;
      }
      const messages = (answer as { messages: QueueMessage[] }).messages;
      if (messages.length > 0 || Date.now() >= deadline || options.signal?.aborted) return messages;
    }
  }

  async complete(queue: string, message: QueueMessage): Promise<void> {
    await this.settle(queue, message, 'complete', {});
  }

  async abandon(queue: string, message: QueueMessage, options: { delayMs?: number } = {}): Promise<void> {
    await this.settle(queue, message, 'abandon', { delayMs: options.delayMs });
  }

  async renewLock(queue: string, message: QueueMessage): Promise<number> {
    return ((await this.settle(queue, message, 'renew', {})) as { lockedUntil: number }).lockedUntil;
  }

  async deadLetter(queue: string, message: QueueMessage, reason: string): Promise<void> {
    await this.settle(queue, message, 'deadletter', { reason });
  }

  async deadLetters(queue: string): Promise<DeadLetter[]> {
    return ((await this.call('GET', queue, 'deadletters')) as { items: DeadLetter[] }).items;
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.agent.destroy();
  }

  private settle(queue: string, message: QueueMessage, action: string, extra: Record<string, unknown>): Promise<unknown> {
    return this.call('POST', queue, `messages/${encodeURIComponent(message.messageId)}/${action}`, { lockToken: message.lockToken, ...extra });
  }

  /** call makes one request and returns its JSON answer, or throws the WorkQueueError it stands for. */
  private async call(method: string, queue: string, path: string, body?: unknown, signal?: AbortSignal, waitMs = 0): Promise<unknown> {
    if (this.closing.signal.aborted) throw new WorkQueueError('Unavailable', 'the work queue client is closed');
    const url = new URL(`${encodeURIComponent(queue)}/${path}`, this.base);
    const signals = [this.closing.signal, AbortSignal.timeout(waitMs + REQUEST_SLACK_MS), ...(signal ? [signal] : [])];
    let answer: Answer;
    try {
      answer = await this.request(method, url, body, AbortSignal.any(signals));
    } catch (err) {
      throw new WorkQueueError('Unavailable', `the queue server at ${this.base.origin} did not answer: ${(err as Error).message}`);
    }
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    const reason = (answer.body as { reason?: unknown } | undefined)?.reason;
    const message = (answer.body as { message?: unknown } | undefined)?.message;
    const known = typeof reason === 'string' && REASONS.has(reason) ? (reason as WorkQueueErrorReason) : 'Unavailable';
    throw new WorkQueueError(known, `queue server answered ${answer.status}: ${typeof message === 'string' ? message : String(reason)}`);
  }

  private request(method: string, url: URL, body: unknown, signal: AbortSignal): Promise<Answer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = client.request(url, {
        method,
        agent: this.agent,
        signal,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      });
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: { message: text.slice(0, 200) } });
          }
        });
      });
      req.end(payload);
    });
  }
}

/** openHttpWorkQueue returns a client of the queue server at `options.server`; it connects on first use. */
export function openHttpWorkQueue(options: HttpWorkQueueOptions): HttpWorkQueue {
  return new HttpWorkQueue(options);
}

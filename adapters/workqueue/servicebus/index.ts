/**
 * The WorkQueue on Azure Service Bus (`@azure/service-bus` 7): one queue per node.
 *
 * Why per-node queues, not one topic with a SQL-filtered subscription per node:
 * - Each node gets its own dead-letter queue, lock duration and max delivery count: the port's
 *   `deadLetters(node)` is simply that queue's `$DeadLetterQueue`, and one node's poison
 *   messages never mix with another's.
 * - No filter runs per message: a topic evaluates every subscription's SQL filter on each send,
 *   and a topic holds at most 2,000 subscriptions, below the node counts the scale targets aim at;
 *   a namespace holds thousands of queues.
 * - Sessions are not needed: the message only names a pod and the agent re-reads it, so ordering
 *   across messages does not matter (delivery is at least once anyway).
 * The price is that a producer must not send to a queue that does not exist yet: this adapter
 * creates a node's queue on first use (send or receive) through the administration client, so
 * its connection string needs Manage rights. (A topic would let the producer send blindly, but
 * a message sent before the node's subscription exists would be lost, which is no better.)
 *
 * Mapping the port onto Service Bus:
 * - deliveryCount: the JS SDK passes the AMQP header's count of *earlier* delivery attempts, so
 *   the port's count (1 on the first delivery) is that plus one.
 * - abandon with a delay: Service Bus cannot delay an abandon, so the adapter schedules a copy
 *   (same messageId, its delivery count carried in application properties) and then completes
 *   the original. Copies past maxDeliveryCount are dead-lettered by the adapter itself.
 * - Settling needs the receiver that received the message, so locked messages are remembered in
 *   memory by lock token; a lock unknown here (settled, or received by another process) is LockLost.
 * - Locks are renewed only by renewLock: receivers turn off the SDK's automatic renewal.
 * - dead-letter: the port's reason becomes DeadLetterReason (its first line, at most 256
 *   characters) and DeadLetterErrorDescription (all of it, at most 4,096).
 */
import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import {
  isServiceBusError,
  ServiceBusAdministrationClient,
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusSender,
} from '@azure/service-bus';
import {
  DEFAULT_WORKQUEUE_SETTINGS,
  WorkQueueError,
  type DeadLetter,
  type QueueMessage,
  type ReceiveOptions,
  type WorkQueue,
  type WorkQueueSettings,
} from '../../../shared/workqueue/queue.js';

/**
 * ServiceBusWorkQueueOptions configure openServiceBusWorkQueue: a connection string (SAS keys),
 * or a namespace and a Microsoft Entra credential (a managed identity: Azure's namespace has
 * local auth off).
 */
export type ServiceBusWorkQueueOptions = ServiceBusWorkQueueCommon & (
  | { /** A namespace connection string (Manage rights when `manageQueues`). */ connectionString: string }
  | { /** `<name>.servicebus.windows.net`. */ fullyQualifiedNamespace: string; credential: TokenCredential }
);

/** ServiceBusWorkQueueCommon are the options both ways of signing in share. */
export interface ServiceBusWorkQueueCommon {
  /**
   * Whether this process creates queues on first use (default true: the control plane, whose
   * identity has Data Owner). A node agent's identity may only receive, so it passes false and
   * expects its queue to exist (the control plane creates it when the Node registers).
   */
  manageQueues?: boolean;
  /** Settings for queues this adapter creates (existing queues keep theirs). */
  settings?: Partial<WorkQueueSettings>;
  /** Prepended to node names to name queues (default none). */
  queuePrefix?: string;
}

/** Application properties the adapter keeps on scheduled copies (abandon with a delay). */
const PRIOR_DELIVERIES = 'coracle-prior-deliveries';
const ENQUEUED_AT = 'coracle-enqueued-at';
const MAX_DELIVERY_REASON = 'MaxDeliveryCountExceeded';
/** Service Bus cannot answer "nothing" instantly; a receive without waitMs waits this long. */
const SHORTEST_WAIT_MS = 1_000;

interface Held {
  message: ServiceBusReceivedMessage;
  receiver: ServiceBusReceiver;
  deliveryCount: number;
  enqueuedAt: number;
}

/** httpStatusOf reads the HTTP status of an administration client failure (a RestError), if it is one. */
function httpStatusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * toWorkQueueError classifies a failure: messaging (AMQP) failures are ServiceBusErrors with a
 * code; the administration client (ATOM over HTTPS) throws RestErrors with an HTTP status.
 */
function toWorkQueueError(err: unknown): WorkQueueError {
  if (err instanceof WorkQueueError) return err;
  if (isServiceBusError(err)) {
    if (err.code === 'MessageLockLost' || err.code === 'MessageNotFound' || err.code === 'SessionLockLost') return new WorkQueueError('LockLost', err.message);
    if (err.code === 'UnauthorizedAccess') return new WorkQueueError('Unauthorized', err.message);
    if (err.code === 'MessageSizeExceeded') return new WorkQueueError('BadRequest', err.message);
  }
  const status = httpStatusOf(err);
  if (status === 401) return new WorkQueueError('Unauthorized', `Service Bus administration: ${(err as Error).message}`);
  if (status === 403) return new WorkQueueError('Forbidden', `Service Bus administration (the connection string needs Manage rights): ${(err as Error).message}`);
  return new WorkQueueError('Unavailable', `Service Bus: ${(err as Error)?.message ?? String(err)}`);
}

/** Service Bus keeps DeadLetterReason short (a classification); the whole text goes in the description. */
const MAX_DEAD_LETTER_REASON = 256;
const MAX_DEAD_LETTER_DESCRIPTION = 4096;

/** deadLetterOptions splits the port's reason into Service Bus' reason (first line, short) and description (all of it). */
function deadLetterOptions(reason: string): { deadLetterReason: string; deadLetterErrorDescription: string } {
  const firstLine = reason.split('\n', 1)[0] ?? '';
  return { deadLetterReason: firstLine.slice(0, MAX_DEAD_LETTER_REASON), deadLetterErrorDescription: reason.slice(0, MAX_DEAD_LETTER_DESCRIPTION) };
}

const isoSeconds = (ms: number) => `PT${Math.max(5, Math.min(300, Math.round(ms / 1000)))}S`;

/** ServiceBusWorkQueue keeps the WorkQueue contract on Service Bus queues. */
export class ServiceBusWorkQueue implements WorkQueue {
  readonly settings: WorkQueueSettings;
  private readonly client: ServiceBusClient;
  private readonly admin: ServiceBusAdministrationClient;
  private readonly prefix: string;
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly senders = new Map<string, ServiceBusSender>();
  /** Idle receivers per queue: one receiver cannot run two receives at once. */
  private readonly idle = new Map<string, ServiceBusReceiver[]>();
  private readonly all = new Set<ServiceBusReceiver>();
  private readonly held = new Map<string, Held>();
  private readonly closing = new AbortController();
  /** Queues this instance created (tests delete them). */
  readonly created = new Set<string>();
  private readonly manageQueues: boolean;

  constructor(options: ServiceBusWorkQueueOptions) {
    this.settings = { ...DEFAULT_WORKQUEUE_SETTINGS, ...options.settings };
    if ('connectionString' in options) {
      this.client = new ServiceBusClient(options.connectionString);
      this.admin = new ServiceBusAdministrationClient(options.connectionString);
    } else {
      this.client = new ServiceBusClient(options.fullyQualifiedNamespace, options.credential);
      this.admin = new ServiceBusAdministrationClient(options.fullyQualifiedNamespace, options.credential);
    }
    this.prefix = options.queuePrefix ?? '';
    this.manageQueues = options.manageQueues ?? true;
  }

  async send(queue: string, body: Record<string, unknown>): Promise<void> {
    const name = await this.open(queue);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new WorkQueueError('BadRequest', 'a message body is a JSON object');
    await this.guard(() => this.sender(name).sendMessages({ body, contentType: 'application/json', messageId: randomUUID() }));
  }

  async receive(queue: string, options: ReceiveOptions = {}): Promise<QueueMessage[]> {
    const name = await this.open(queue);
    const max = options.maxMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > 100) throw new WorkQueueError('BadRequest', 'maxMessages is an integer from 1 to 100');
    const receiver = this.idle.get(name)?.pop() ?? this.newReceiver(name);
    const abortSignal = AbortSignal.any([this.closing.signal, ...(options.signal ? [options.signal] : [])]);
    let received: ServiceBusReceivedMessage[];
    try {
      received = await receiver.receiveMessages(max, { maxWaitTimeInMs: Math.max(SHORTEST_WAIT_MS, options.waitMs ?? 0), abortSignal });
    } catch (err) {
      this.checkOpen();
      if (options.signal?.aborted) return [];
      throw toWorkQueueError(err);
    } finally {
      if (!this.closing.signal.aborted) this.idle.set(name, [...(this.idle.get(name) ?? []), receiver]);
    }
    const out: QueueMessage[] = [];
    for (const message of received) {
      const delivered = await this.accept(receiver, message);
      if (delivered) out.push(delivered);
    }
    return out;
  }

  async complete(queue: string, message: QueueMessage): Promise<void> {
    const held = this.take(message);
    await this.guard(() => held.receiver.completeMessage(held.message));
  }

  async abandon(queue: string, message: QueueMessage, options: { delayMs?: number } = {}): Promise<void> {
    const held = this.take(message);
    const delayMs = options.delayMs ?? 0;
    if (delayMs <= 0) return this.guard(() => held.receiver.abandonMessage(held.message));
    if (held.deliveryCount >= this.settings.maxDeliveryCount) {
      return this.guard(() => held.receiver.deadLetterMessage(held.message, { deadLetterReason: MAX_DELIVERY_REASON, deadLetterErrorDescription: 'abandoned after its last delivery' }));
    }
    const name = this.queueName(queue);
    await this.guard(async () => {
      // Schedule the copy first: if completing the original then fails, the message is delivered twice, never lost.
      await this.sender(name).scheduleMessages(
        {
          body: held.message.body,
          contentType: 'application/json',
          messageId: held.message.messageId as string,
          applicationProperties: { [PRIOR_DELIVERIES]: held.deliveryCount, [ENQUEUED_AT]: held.enqueuedAt },
        },
        new Date(Date.now() + delayMs),
      );
      await held.receiver.completeMessage(held.message);
    });
  }

  async renewLock(queue: string, message: QueueMessage): Promise<number> {
    this.checkOpen();
    const held = this.held.get(message.lockToken);
    if (!held) throw new WorkQueueError('LockLost', `the lock on message ${message.messageId} is not held here`);
    const until = await this.guard(() => held.receiver.renewMessageLock(held.message));
    return until.getTime();
  }

  async deadLetter(queue: string, message: QueueMessage, reason: string): Promise<void> {
    const held = this.take(message);
    await this.guard(() => held.receiver.deadLetterMessage(held.message, deadLetterOptions(reason)));
  }

  async deadLetters(queue: string): Promise<DeadLetter[]> {
    const name = await this.open(queue);
    const receiver = this.client.createReceiver(name, { subQueueType: 'deadLetter', receiveMode: 'peekLock' });
    try {
      const out: DeadLetter[] = [];
      for (;;) {
        const batch = await this.guard(() => receiver.peekMessages(100));
        if (batch.length === 0) return out;
        for (const m of batch) {
          // The full reason is the description (deadLetterOptions), except for delivery-count dead letters (ours or the queue's).
          const reason = m.deadLetterReason === MAX_DELIVERY_REASON ? m.deadLetterReason : (m.deadLetterErrorDescription ?? m.deadLetterReason ?? 'unknown');
          out.push({ messageId: String(m.messageId), body: m.body as Record<string, unknown>, deliveryCount: this.deliveryCountOf(m), reason });
        }
      }
    } finally {
      await receiver.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    await Promise.allSettled([...this.all].map((r) => r.close()));
    await Promise.allSettled([...this.senders.values()].map((s) => s.close()));
    await this.client.close();
  }

  /** createQueue creates node `queue`'s queue if absent (the port's optional lifecycle; remembered per process). */
  async createQueue(queue: string): Promise<void> {
    await this.open(queue, true);
  }

  /** deleteQueue deletes node `queue`'s queue and its messages; an absent queue is fine. */
  async deleteQueue(queue: string): Promise<void> {
    const name = this.queueName(queue);
    this.ensured.delete(name);
    await this.guard(async () => {
      try {
        await this.admin.deleteQueue(name);
      } catch (err) {
        if (httpStatusOf(err) !== 404) throw err;
      }
    });
  }

  /** deleteCreatedQueues deletes every queue this instance created (for tests). */
  async deleteCreatedQueues(): Promise<void> {
    await Promise.allSettled([...this.created].map((q) => this.admin.deleteQueue(q)));
  }

  /** accept turns a received message into a delivery, or dead-letters a scheduled copy past its last delivery. */
  private async accept(receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage): Promise<QueueMessage | undefined> {
    const deliveryCount = this.deliveryCountOf(message);
    if (deliveryCount > this.settings.maxDeliveryCount) {
      await this.guard(() => receiver.deadLetterMessage(message, { deadLetterReason: MAX_DELIVERY_REASON, deadLetterErrorDescription: 'delivered too often' }));
      return undefined;
    }
    const lockToken = message.lockToken as string;
    const enqueuedAt = Number(message.applicationProperties?.[ENQUEUED_AT] ?? message.enqueuedTimeUtc?.getTime() ?? Date.now());
    this.held.set(lockToken, { message, receiver, deliveryCount, enqueuedAt });
    return {
      messageId: String(message.messageId),
      body: message.body as Record<string, unknown>,
      deliveryCount,
      lockToken,
      lockedUntil: message.lockedUntilUtc?.getTime() ?? Date.now() + this.settings.lockDurationMs,
      enqueuedAt,
    };
  }

  private deliveryCountOf(message: ServiceBusReceivedMessage): number {
    const prior = Number(message.applicationProperties?.[PRIOR_DELIVERIES] ?? 0);
    return prior + (message.deliveryCount ?? 0) + 1;
  }

  /** take removes a held message for settling; a lock not held here is LockLost. */
  private take(message: QueueMessage): Held {
    this.checkOpen();
    const held = this.held.get(message.lockToken);
    if (!held) throw new WorkQueueError('LockLost', `the lock on message ${message.messageId} is not held here`);
    this.held.delete(message.lockToken);
    return held;
  }

  private queueName(queue: string): string {
    if (typeof queue !== 'string' || queue === '' || this.prefix.length + queue.length > 260) throw new WorkQueueError('BadRequest', 'a queue name is 1 to 260 characters');
    return `${this.prefix}${queue}`;
  }

  /** open checks the instance and the name, and (when this process manages queues) creates the node's queue on first use. */
  private async open(queue: string, create = this.manageQueues): Promise<string> {
    this.checkOpen();
    const name = this.queueName(queue);
    if (!create) return name;
    let ensured = this.ensured.get(name);
    if (!ensured) {
      ensured = this.createIfAbsent(name);
      this.ensured.set(name, ensured);
      ensured.catch(() => this.ensured.delete(name));
    }
    await ensured;
    return name;
  }

  private async createIfAbsent(name: string): Promise<void> {
    await this.guard(async () => {
      if (await this.admin.queueExists(name)) return;
      try {
        await this.admin.createQueue(name, { lockDuration: isoSeconds(this.settings.lockDurationMs), maxDeliveryCount: this.settings.maxDeliveryCount });
        this.created.add(name);
      } catch (err) {
        // Created meanwhile by another process: the administration client answers 409
        // (a RestError, code MessageEntityAlreadyExistsError), not a ServiceBusError.
        if (httpStatusOf(err) !== 409) throw err;
      }
    });
  }

  private sender(name: string): ServiceBusSender {
    let sender = this.senders.get(name);
    if (!sender) {
      sender = this.client.createSender(name);
      this.senders.set(name, sender);
    }
    return sender;
  }

  private newReceiver(name: string): ServiceBusReceiver {
    // No automatic lock renewal (the SDK's default renews for 5 minutes): the port's lock lasts the
    // queue's lock duration unless renewLock is called, so an unsettled message comes back on time.
    const receiver = this.client.createReceiver(name, { receiveMode: 'peekLock', maxAutoLockRenewalDurationInMs: 0 });
    this.all.add(receiver);
    return receiver;
  }

  private checkOpen(): void {
    if (this.closing.signal.aborted) throw new WorkQueueError('Unavailable', 'the work queue is closed');
  }

  private async guard<T>(step: () => Promise<T>): Promise<T> {
    this.checkOpen();
    try {
      return await step();
    } catch (err) {
      throw toWorkQueueError(err);
    }
  }
}

/** openServiceBusWorkQueue connects to the namespace; queues are created when first used. */
export async function openServiceBusWorkQueue(options: ServiceBusWorkQueueOptions): Promise<ServiceBusWorkQueue> {
  return new ServiceBusWorkQueue(options);
}

/** ServiceBusTarget is how a configuration names a namespace: a connection string, or a namespace signed with an identity. */
export type ServiceBusTarget = { connectionString: string } | { namespace: string; identity: { clientId?: string } };

/**
 * openServiceBusTarget opens the WorkQueue on the namespace a configuration names (the app's and
 * the agents' one way in); `manageQueues: false` for node agents, whose identity only receives.
 */
export async function openServiceBusTarget(target: ServiceBusTarget, options: { manageQueues?: boolean } = {}): Promise<ServiceBusWorkQueue> {
  if ('connectionString' in target) return openServiceBusWorkQueue({ connectionString: target.connectionString, ...options });
  const { azureCredential } = await import('../../identity.js');
  return openServiceBusWorkQueue({ fullyQualifiedNamespace: target.namespace, credential: await azureCredential(target.identity), ...options });
}

/**
 * The WorkQueue port: peek-lock queues, one logical queue per node (Service Bus' model).
 *
 * A message is delivered to one receiver at a time under a lock. The receiver then completes it
 * (gone for good), abandons it (delivered again, at once or after a delay), or dead-letters it.
 * A lock that expires without any of these makes the message deliverable again, with its
 * `deliveryCount` one higher; past `maxDeliveryCount` deliveries it moves to the dead-letter queue
 * by itself. Delivery is at least once: receivers must tolerate duplicates and reordering.
 *
 * Adapters (the embedded SQLite queue, Azure Service Bus) live outside `shared/` and pass the
 * contract suite in `shared/workqueue/contract.ts`.
 */

/** QueueMessage is one delivered message, locked to its receiver until `lockedUntil`. */
export interface QueueMessage {
  /** Stable across deliveries of the same message. */
  messageId: string;
  body: Record<string, unknown>;
  /** 1 on the first delivery. */
  deliveryCount: number;
  /** Names this delivery's lock; complete/abandon/renew/deadLetter take it. */
  lockToken: string;
  /** Epoch milliseconds at which the lock expires. */
  lockedUntil: number;
  /** Epoch milliseconds at which the message was sent. */
  enqueuedAt: number;
}

/** DeadLetter is a message that was dead-lettered, with why. */
export interface DeadLetter {
  messageId: string;
  body: Record<string, unknown>;
  deliveryCount: number;
  reason: string;
}

/** WorkQueueErrorReason classifies failures; classify by reason, never by message. */
export type WorkQueueErrorReason =
  | 'LockLost' // the lock expired or the message was settled already
  | 'Unavailable' // backend unreachable or closed
  | 'BadRequest'
  | 'Unauthorized' // the backend did not accept the caller's credentials
  | 'Forbidden'; // the caller may not use this queue (a node's token names only its own queue)

/** WorkQueueError is the only error a WorkQueue throws on purpose. */
export class WorkQueueError extends Error {
  constructor(readonly reason: WorkQueueErrorReason, message: string) {
    super(message);
    this.name = 'WorkQueueError';
  }
}

/** ReceiveOptions tune one receive call. */
export interface ReceiveOptions {
  /** At most this many messages (default 1). */
  maxMessages?: number;
  /** Wait up to this long for a first message (long poll; default 0: return at once). */
  waitMs?: number;
  /** Ends a waiting receive early, returning what it has (possibly nothing). */
  signal?: AbortSignal;
}

/** WorkQueue is the contract every queue adapter keeps. Queue names are node names. */
export interface WorkQueue {
  /** send enqueues a message on `queue` (created on first use). */
  send(queue: string, body: Record<string, unknown>): Promise<void>;
  /** receive locks and returns up to maxMessages deliverable messages, oldest first. */
  receive(queue: string, options?: ReceiveOptions): Promise<QueueMessage[]>;
  /** complete removes the message; LockLost if the lock is no longer held. */
  complete(queue: string, message: QueueMessage): Promise<void>;
  /** abandon releases the lock; the message is deliverable again after `delayMs` (default 0). */
  abandon(queue: string, message: QueueMessage, options?: { delayMs?: number }): Promise<void>;
  /** renewLock extends the lock by the queue's lock duration; returns the new `lockedUntil`. */
  renewLock(queue: string, message: QueueMessage): Promise<number>;
  /** deadLetter moves the message to the queue's dead-letter queue with a reason. */
  deadLetter(queue: string, message: QueueMessage, reason: string): Promise<void>;
  /** deadLetters lists the dead-lettered messages of `queue` (for operators and tests). */
  deadLetters(queue: string): Promise<DeadLetter[]>;
  /** close releases the backend; later calls fail with Unavailable. */
  close(): Promise<void>;
  /**
   * createQueue makes `queue` ready before its first message (idempotent). Optional: adapters
   * whose queues need no creation (the embedded one) leave it out. The control plane calls it
   * when a Node registers.
   */
  createQueue?(queue: string): Promise<void>;
  /** deleteQueue removes `queue` and its messages (idempotent; optional as createQueue). Called when a Node is deleted. */
  deleteQueue?(queue: string): Promise<void>;
}

/** WorkQueueSettings are the per-queue settings every adapter honours. */
export interface WorkQueueSettings {
  /** How long a receive's lock lasts (default 30 000 ms, Service Bus' default is 60 s). */
  lockDurationMs: number;
  /** Deliveries after which a message is dead-lettered by the queue itself (default 10, as Service Bus). */
  maxDeliveryCount: number;
}

/** DEFAULT_WORKQUEUE_SETTINGS are the defaults of WorkQueueSettings. */
export const DEFAULT_WORKQUEUE_SETTINGS: WorkQueueSettings = { lockDurationMs: 30_000, maxDeliveryCount: 10 };

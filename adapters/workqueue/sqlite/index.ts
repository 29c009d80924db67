/**
 * The embedded WorkQueue: peek-lock queues in one SQLite file (WAL), for the local host. Agents
 * reach it over HTTP (`local/queue-server.ts`, `adapters/workqueue/http`).
 *
 * Every operation is one short transaction (`BEGIN IMMEDIATE` where it locks or moves
 * messages), so receivers in this process and in other processes never take the same message.
 * Long-polling receives sleep until a send or abandon in this process wakes them, the next
 * delayed or locked message comes due, or a slow poll (for writers in other processes) fires.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  DEFAULT_WORKQUEUE_SETTINGS,
  WorkQueueError,
  type DeadLetter,
  type QueueMessage,
  type ReceiveOptions,
  type WorkQueue,
  type WorkQueueSettings,
} from '../../../shared/workqueue/queue.js';
import { openQueueDatabase, type SqliteDatabase } from './schema.js';
import { acquireBoard, releaseBoard, type WakeupBoard } from './wakeup.js';

/** SqliteWorkQueueOptions configure openSqliteWorkQueue. */
export interface SqliteWorkQueueOptions {
  /** The queue file (created with its folder if absent), or `:memory:`. */
  path: string;
  settings?: Partial<WorkQueueSettings>;
  /** How often a waiting receive looks for messages written by other processes (default 1 000 ms). */
  pollIntervalMs?: number;
}

/** MAX_RECEIVE_BATCH caps maxMessages, as Service Bus caps a receive batch. */
export const MAX_RECEIVE_BATCH = 100;
/** MAX_QUEUE_NAME_LENGTH is Service Bus' limit on entity names, kept here so names travel. */
export const MAX_QUEUE_NAME_LENGTH = 260;
/** MAX_DELIVERY_REASON is the reason given to messages dead-lettered by the queue itself. */
export const MAX_DELIVERY_REASON = 'MaxDeliveryCountExceeded';

interface MessageRow {
  seq: number;
  message_id: string;
  body: string;
  enqueued_at: number;
  delivery_count: number;
}

const unavailable = () => new WorkQueueError('Unavailable', 'the work queue is closed');
const lockLost = (m: QueueMessage) => new WorkQueueError('LockLost', `the lock on message ${m.messageId} is no longer held`);

/** checkQueueName throws BadRequest unless `queue` is a usable queue name. */
export function checkQueueName(queue: unknown): asserts queue is string {
  if (typeof queue !== 'string' || queue.length === 0 || queue.length > MAX_QUEUE_NAME_LENGTH) {
    throw new WorkQueueError('BadRequest', `a queue name is 1 to ${MAX_QUEUE_NAME_LENGTH} characters`);
  }
}

/** checkBody throws BadRequest unless `body` is a JSON object. */
export function checkBody(body: unknown): asserts body is Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new WorkQueueError('BadRequest', 'a message body is a JSON object');
}

/** checkMaxMessages returns maxMessages, defaulted, or throws BadRequest. */
export function checkMaxMessages(maxMessages: unknown): number {
  const n = maxMessages ?? 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_RECEIVE_BATCH) {
    throw new WorkQueueError('BadRequest', `maxMessages is an integer from 1 to ${MAX_RECEIVE_BATCH}`);
  }
  return n;
}

/** SqliteWorkQueue is the embedded queue; it keeps the WorkQueue contract. */
export class SqliteWorkQueue implements WorkQueue {
  readonly settings: WorkQueueSettings;
  private readonly closing = new AbortController();
  private readonly boardKey: string;
  private readonly board: WakeupBoard;

  constructor(
    private readonly db: SqliteDatabase,
    path: string,
    settings: WorkQueueSettings,
    private readonly pollIntervalMs: number,
  ) {
    this.settings = settings;
    this.boardKey = path === ':memory:' ? `:memory:${randomUUID()}` : resolve(path);
    this.board = acquireBoard(this.boardKey);
  }

  async send(queue: string, body: Record<string, unknown>): Promise<void> {
    this.checkOpen();
    checkQueueName(queue);
    checkBody(body);
    const now = Date.now();
    this.run(() =>
      this.db
        .prepare('INSERT INTO messages (queue, message_id, body, enqueued_at, visible_at) VALUES (?, ?, ?, ?, ?)')
        .run(queue, randomUUID(), JSON.stringify(body), now, now),
    );
    this.board.notify(queue);
  }

  async receive(queue: string, options: ReceiveOptions = {}): Promise<QueueMessage[]> {
    this.checkOpen();
    checkQueueName(queue);
    const max = checkMaxMessages(options.maxMessages);
    const deadline = Date.now() + Math.max(0, options.waitMs ?? 0);
    for (;;) {
      const got = this.run(() => this.take(queue, max));
      if (got.length > 0 || Date.now() >= deadline || options.signal?.aborted) return got;
      const nextDue = this.run(() => this.nextDue(queue));
      const wakeAt = Math.min(deadline, nextDue ?? Infinity, Date.now() + this.pollIntervalMs);
      await this.board.wait(queue, wakeAt - Date.now(), [options.signal, this.closing.signal]);
      this.checkOpen();
    }
  }

  async complete(queue: string, message: QueueMessage): Promise<void> {
    this.checkOpen();
    checkQueueName(queue);
    const deleted = this.run(() =>
      this.db.prepare('DELETE FROM messages WHERE queue = ? AND message_id = ? AND lock_token = ? AND visible_at > ?').run(queue, message.messageId, message.lockToken, Date.now()),
    );
    if (deleted.changes === 0) throw lockLost(message);
  }

  async abandon(queue: string, message: QueueMessage, options: { delayMs?: number } = {}): Promise<void> {
    this.checkOpen();
    checkQueueName(queue);
    const delayMs = Math.max(0, options.delayMs ?? 0);
    const row = this.run(() =>
      this.db.transaction(() => {
        const held = this.held(queue, message);
        if (!held) return undefined;
        if (held.delivery_count >= this.settings.maxDeliveryCount) this.moveToDeadLetters(queue, held, MAX_DELIVERY_REASON);
        else this.db.prepare('UPDATE messages SET visible_at = ?, lock_token = NULL WHERE seq = ?').run(Date.now() + delayMs, held.seq);
        return held;
      }).immediate(),
    );
    if (!row) throw lockLost(message);
    this.board.notify(queue);
  }

  async renewLock(queue: string, message: QueueMessage): Promise<number> {
    this.checkOpen();
    checkQueueName(queue);
    const lockedUntil = Date.now() + this.settings.lockDurationMs;
    const updated = this.run(() =>
      this.db.prepare('UPDATE messages SET visible_at = ? WHERE queue = ? AND message_id = ? AND lock_token = ? AND visible_at > ?').run(lockedUntil, queue, message.messageId, message.lockToken, Date.now()),
    );
    if (updated.changes === 0) throw lockLost(message);
    return lockedUntil;
  }

  async deadLetter(queue: string, message: QueueMessage, reason: string): Promise<void> {
    this.checkOpen();
    checkQueueName(queue);
    if (typeof reason !== 'string' || reason === '') throw new WorkQueueError('BadRequest', 'a dead-letter reason is a non-empty string');
    const moved = this.run(() =>
      this.db.transaction(() => {
        const held = this.held(queue, message);
        if (held) this.moveToDeadLetters(queue, held, reason);
        return held !== undefined;
      }).immediate(),
    );
    if (!moved) throw lockLost(message);
  }

  async deadLetters(queue: string): Promise<DeadLetter[]> {
    this.checkOpen();
    checkQueueName(queue);
    return this.run(() =>
      this.db.transaction(() => {
        this.deadLetterExhausted(queue, Date.now());
        const rows = this.db.prepare('SELECT message_id, body, delivery_count, reason FROM dead_letters WHERE queue = ? ORDER BY seq').all(queue) as {
          message_id: string;
          body: string;
          delivery_count: number;
          reason: string;
        }[];
        return rows.map((r) => ({ messageId: r.message_id, body: JSON.parse(r.body), deliveryCount: r.delivery_count, reason: r.reason }));
      }).immediate(),
    );
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    releaseBoard(this.boardKey);
    this.db.close();
  }

  /** take locks up to `max` due messages of `queue`, oldest first, dead-lettering exhausted ones on the way. */
  private take(queue: string, max: number): QueueMessage[] {
    return this.db.transaction(() => {
      const now = Date.now();
      this.deadLetterExhausted(queue, now);
      const rows = this.db
        .prepare('SELECT seq, message_id, body, enqueued_at, delivery_count FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY seq LIMIT ?')
        .all(queue, now, max) as MessageRow[];
      const lockedUntil = now + this.settings.lockDurationMs;
      const lock = this.db.prepare('UPDATE messages SET delivery_count = delivery_count + 1, lock_token = ?, visible_at = ? WHERE seq = ?');
      return rows.map((row) => {
        const lockToken = randomUUID();
        lock.run(lockToken, lockedUntil, row.seq);
        return {
          messageId: row.message_id,
          body: JSON.parse(row.body) as Record<string, unknown>,
          deliveryCount: row.delivery_count + 1,
          lockToken,
          lockedUntil,
          enqueuedAt: row.enqueued_at,
        };
      });
    }).immediate();
  }

  /** deadLetterExhausted moves messages whose last allowed delivery's lock expired to the dead letters. */
  private deadLetterExhausted(queue: string, now: number): void {
    const rows = this.db
      .prepare('SELECT seq, message_id, body, enqueued_at, delivery_count FROM messages WHERE queue = ? AND visible_at <= ? AND delivery_count >= ?')
      .all(queue, now, this.settings.maxDeliveryCount) as MessageRow[];
    for (const row of rows) this.moveToDeadLetters(queue, row, MAX_DELIVERY_REASON);
  }

  /** held returns the message's row if `message`'s lock is still held. */
  private held(queue: string, message: QueueMessage): MessageRow | undefined {
    return this.db
      .prepare('SELECT seq, message_id, body, enqueued_at, delivery_count FROM messages WHERE queue = ? AND message_id = ? AND lock_token = ? AND visible_at > ?')
      .get(queue, message.messageId, message.lockToken, Date.now()) as MessageRow | undefined;
  }

  private moveToDeadLetters(queue: string, row: MessageRow, reason: string): void {
    this.db
      .prepare('INSERT INTO dead_letters (queue, message_id, body, enqueued_at, delivery_count, reason, dead_lettered_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(queue, row.message_id, row.body, row.enqueued_at, row.delivery_count, reason, Date.now());
    this.db.prepare('DELETE FROM messages WHERE seq = ?').run(row.seq);
  }

  /** nextDue is when the next message of `queue` that is locked or delayed becomes deliverable. */
  private nextDue(queue: string): number | undefined {
    const row = this.db.prepare('SELECT min(visible_at) AS at FROM messages WHERE queue = ? AND visible_at > ?').get(queue, Date.now()) as { at: number | null };
    return row.at ?? undefined;
  }

  private checkOpen(): void {
    if (this.closing.signal.aborted) throw unavailable();
  }

  /** run runs one database step; a database failure is Unavailable (the caller may retry). */
  private run<T>(step: () => T): T {
    this.checkOpen();
    try {
      return step();
    } catch (err) {
      if (err instanceof WorkQueueError) throw err;
      throw new WorkQueueError('Unavailable', `the queue database failed: ${(err as Error).message}`);
    }
  }
}

/**
 * openSqliteWorkQueue opens (creating if absent) the queue file at `path`. A sent message
 * survives the process ending; a lock held when it ended simply expires. Throws an Error naming
 * `path` if the file is not a usable queue.
 */
export async function openSqliteWorkQueue(options: SqliteWorkQueueOptions): Promise<SqliteWorkQueue> {
  if (options.path !== ':memory:') mkdirSync(dirname(resolve(options.path)), { recursive: true });
  const db = openQueueDatabase(options.path);
  const settings = { ...DEFAULT_WORKQUEUE_SETTINGS, ...options.settings };
  return new SqliteWorkQueue(db, options.path, settings, options.pollIntervalMs ?? 1_000);
}

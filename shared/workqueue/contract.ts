/**
 * The WorkQueue contract suite: every WorkQueue adapter runs it
 * (`describeWorkQueueContract('sqlite', open, settings)`). It checks the contract written in
 * `queue.ts` through the port alone. Excluded from the build.
 *
 * Each test uses queues with fresh random names, so a backend that keeps queues between runs
 * (Service Bus) needs no cleanup between tests. Timings scale with `settings.lockDurationMs`.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { WorkQueueError, type QueueMessage, type WorkQueue, type WorkQueueErrorReason, type WorkQueueSettings } from './queue.js';

/** WorkQueueHarness is one open queue backend for one test. */
export interface WorkQueueHarness {
  queue: WorkQueue;
  /** close (if still open) and delete everything the test made. */
  destroy(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** expectReason awaits `promise` and asserts it fails with a WorkQueueError of `reason`. */
async function expectReason(promise: Promise<unknown>, reason: WorkQueueErrorReason): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(err instanceof WorkQueueError ? err.reason : err).toBe(reason);
    return;
  }
  throw new Error(`expected a WorkQueueError ${reason}, but the call succeeded`);
}

/** receiveOne receives exactly one message, waiting up to `waitMs`; fails if none arrives. */
async function receiveOne(queue: WorkQueue, name: string, waitMs: number): Promise<QueueMessage> {
  const [message, ...rest] = await queue.receive(name, { waitMs });
  expect(rest).toEqual([]);
  if (!message) throw new Error(`no message on ${name} within ${waitMs} ms`);
  return message;
}

/**
 * describeWorkQueueContract registers the contract tests for one adapter. `open` gives an open
 * backend whose queues use `settings`; the suite assumes nothing else about it.
 */
export function describeWorkQueueContract(adapterName: string, open: () => Promise<WorkQueueHarness>, settings: WorkQueueSettings): void {
  const lock = settings.lockDurationMs;
  /** Long enough for one round trip to any backend, short against the lock. */
  const wait = Math.max(2_000, lock);
  const timeout = 30_000 + lock * (settings.maxDeliveryCount + 6);

  describe(`WorkQueue contract: ${adapterName}`, () => {
    let h: WorkQueueHarness;
    let queue: WorkQueue;
    const newQueue = () => `q-${randomUUID().slice(0, 8)}`;

    beforeEach(async () => {
      h = await open();
      queue = h.queue;
    }, 60_000);
    afterEach(async () => {
      await h?.destroy();
    }, 60_000);

    it('delivers in send order, with ids, bodies, a first delivery count and a lock', async () => {
      const q = newQueue();
      const before = Date.now();
      for (let i = 0; i < 5; i++) await queue.send(q, { i, nested: { list: [i, 'x'], flag: true } });
      const got: QueueMessage[] = [];
      while (got.length < 5) {
        const batch = await queue.receive(q, { maxMessages: 5 - got.length, waitMs: wait });
        expect(batch.length).toBeGreaterThan(0);
        got.push(...batch);
      }
      expect(got.map((m) => m.body)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i, nested: { list: [i, 'x'], flag: true } })));
      expect(new Set(got.map((m) => m.messageId)).size).toBe(5);
      expect(new Set(got.map((m) => m.lockToken)).size).toBe(5);
      for (const m of got) {
        expect(m.deliveryCount).toBe(1);
        expect(m.enqueuedAt).toBeGreaterThanOrEqual(before - 5_000);
        expect(m.enqueuedAt).toBeLessThanOrEqual(Date.now() + 5_000);
        expect(m.lockedUntil).toBeGreaterThan(Date.now());
        expect(m.lockedUntil).toBeLessThanOrEqual(Date.now() + lock + 5_000);
      }
    }, timeout);

    it('returns nothing at once from an empty queue, and at most maxMessages', async () => {
      const q = newQueue();
      expect(await queue.receive(q)).toEqual([]);
      for (let i = 0; i < 3; i++) await queue.send(q, { i });
      const first = await queue.receive(q, { maxMessages: 2, waitMs: wait });
      expect(first.length).toBeGreaterThanOrEqual(1);
      expect(first.length).toBeLessThanOrEqual(2);
    }, timeout);

    it('peek-lock: a locked message is not delivered to a second receiver', async () => {
      const q = newQueue();
      await queue.send(q, { pod: 'a' });
      const m = await receiveOne(queue, q, wait);
      expect(await queue.receive(q, { waitMs: Math.min(500, lock / 2) })).toEqual([]);
      await queue.complete(q, m);
    }, timeout);

    it('complete removes the message for good; settling it again is LockLost', async () => {
      const q = newQueue();
      await queue.send(q, { pod: 'a' });
      const m = await receiveOne(queue, q, wait);
      await queue.complete(q, m);
      await sleep(lock + 300);
      expect(await queue.receive(q)).toEqual([]);
      await expectReason(queue.complete(q, m), 'LockLost');
      await expectReason(queue.abandon(q, m), 'LockLost');
      await expectReason(queue.renewLock(q, m), 'LockLost');
    }, timeout);

    it('abandon makes the message deliverable again with deliveryCount + 1; the old lock is gone', async () => {
      const q = newQueue();
      await queue.send(q, { pod: 'a' });
      const first = await receiveOne(queue, q, wait);
      await queue.abandon(q, first);
      const second = await receiveOne(queue, q, wait);
      expect(second.messageId).toBe(first.messageId);
      expect(second.body).toEqual({ pod: 'a' });
      expect(second.deliveryCount).toBe(2);
      expect(second.lockToken).not.toBe(first.lockToken);
      await expectReason(queue.complete(q, first), 'LockLost');
      await queue.complete(q, second);
    }, timeout);

    it('abandon with delayMs keeps the message back for that long', async () => {
      const q = newQueue();
      await queue.send(q, { pod: 'a' });
      const first = await receiveOne(queue, q, wait);
      const delayMs = Math.max(1_000, Math.min(lock, 3_000));
      const abandonedAt = Date.now();
      await queue.abandon(q, first, { delayMs });
      expect(await queue.receive(q)).toEqual([]);
      const again = await receiveOne(queue, q, delayMs + wait);
      expect(Date.now() - abandonedAt).toBeGreaterThanOrEqual(delayMs - 50);
      expect(again.messageId).toBe(first.messageId);
      expect(again.deliveryCount).toBe(2);
      await queue.complete(q, again);
    }, timeout);

    it('an expired lock makes the message deliverable again, and settling under it is LockLost', async () => {
      const q = newQueue();
      await queue.send(q, { pod: 'a' });
      const first = await receiveOne(queue, q, wait);
      await sleep(first.lockedUntil - Date.now() + 200);
      await expectReason(queue.complete(q, first), 'LockLost');
      await expectReason(queue.renewLock(q, first), 'LockLost');
      const second = await receiveOne(queue, q, wait);
      expect(second.messageId).toBe(first.messageId);
      expect(second.deliveryCount).toBe(2);
      await expectReason(queue.complete(q, first), 'LockLost');
      await queue.complete(q, second);
    }, timeout);

    it('renewLock extends the lock by the lock duration', async () => {
      const q = newQueue();
      await queue.send(q, { pod: 'a' });
      const m = await receiveOne(queue, q, wait);
      await sleep(lock * 0.6);
      const renewedUntil = await queue.renewLock(q, m);
      expect(renewedUntil).toBeGreaterThan(m.lockedUntil);
      expect(renewedUntil).toBeGreaterThanOrEqual(Date.now() + lock - 1_000);
      // Past the first lock's end the message is still held.
      await sleep(m.lockedUntil - Date.now() + 200);
      expect(await queue.receive(q)).toEqual([]);
      await queue.complete(q, { ...m, lockedUntil: renewedUntil });
    }, timeout);

    it(`dead-letters a message by itself after maxDeliveryCount (${settings.maxDeliveryCount}) deliveries`, async () => {
      const q = newQueue();
      await queue.send(q, { pod: 'poison' });
      let last: QueueMessage | undefined;
      for (let n = 1; n <= settings.maxDeliveryCount; n++) {
        last = await receiveOne(queue, q, wait);
        expect(last.deliveryCount).toBe(n);
        await queue.abandon(q, last);
      }
      expect(await queue.receive(q, { waitMs: 500 })).toEqual([]);
      const dead = await queue.deadLetters(q);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ messageId: last!.messageId, body: { pod: 'poison' }, deliveryCount: settings.maxDeliveryCount });
      expect(dead[0]!.reason).toEqual(expect.any(String));
      expect(dead[0]!.reason.length).toBeGreaterThan(0);
    }, timeout);

    it('deadLetter moves a message to the dead-letter queue with its reason', async () => {
      const q = newQueue();
      await queue.send(q, { pod: 'keep' });
      await queue.send(q, { pod: 'bad' });
      expect(await queue.deadLetters(q)).toEqual([]);
      const keep = await receiveOne(queue, q, wait);
      const bad = await receiveOne(queue, q, wait);
      expect(bad.body).toEqual({ pod: 'bad' });
      await queue.deadLetter(q, bad, 'malformed pod reference');
      await expectReason(queue.complete(q, bad), 'LockLost');
      await queue.abandon(q, keep);
      const again = await receiveOne(queue, q, wait);
      expect(again.body).toEqual({ pod: 'keep' });
      expect(await queue.receive(q)).toEqual([]);
      expect(await queue.deadLetters(q)).toEqual([{ messageId: bad.messageId, body: { pod: 'bad' }, deliveryCount: 1, reason: 'malformed pod reference' }]);
    }, timeout);

    it('long poll: a waiting receive returns as soon as a message arrives', async () => {
      const q = newQueue();
      const started = Date.now();
      const receiving = queue.receive(q, { waitMs: 20_000 });
      await sleep(300);
      const sentAt = Date.now();
      await queue.send(q, { pod: 'late' });
      const got = await receiving;
      expect(got.map((m) => m.body)).toEqual([{ pod: 'late' }]);
      expect(Date.now() - sentAt).toBeLessThan(3_000);
      expect(Date.now() - started).toBeLessThan(10_000);
    }, timeout);

    it('long poll: an empty queue answers after about waitMs, not before', async () => {
      const q = newQueue();
      const started = Date.now();
      expect(await queue.receive(q, { waitMs: 1_000 })).toEqual([]);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(6_000);
    }, timeout);

    it('long poll: the signal ends a waiting receive early', async () => {
      const q = newQueue();
      const ac = new AbortController();
      const started = Date.now();
      const receiving = queue.receive(q, { waitMs: 20_000, signal: ac.signal });
      await sleep(200);
      ac.abort();
      expect(await receiving).toEqual([]);
      expect(Date.now() - started).toBeLessThan(5_000);
      // Nothing was taken by the aborted receive.
      await queue.send(q, { pod: 'after' });
      expect((await receiveOne(queue, q, wait)).body).toEqual({ pod: 'after' });
    }, timeout);

    it('queues are independent: messages, locks and dead letters stay on their queue', async () => {
      const [a, b] = [newQueue(), newQueue()];
      await queue.send(a, { node: 'a' });
      expect(await queue.receive(b, { waitMs: 300 })).toEqual([]);
      const m = await receiveOne(queue, a, wait);
      await queue.deadLetter(a, m, 'test');
      expect(await queue.deadLetters(b)).toEqual([]);
      expect(await queue.deadLetters(a)).toHaveLength(1);
      await queue.send(b, { node: 'b' });
      expect((await receiveOne(queue, b, wait)).body).toEqual({ node: 'b' });
    }, timeout);

    it('many concurrent receivers never hold the same message at once', async () => {
      const q = newQueue();
      const total = 30;
      for (let i = 0; i < total; i++) await queue.send(q, { i });
      const seen: string[] = [];
      const receiver = async () => {
        const deadline = Date.now() + 20_000;
        while (seen.length < total && Date.now() < deadline) {
          const batch = await queue.receive(q, { maxMessages: 3, waitMs: 200 });
          for (const m of batch) {
            seen.push(m.messageId);
            await queue.complete(q, m);
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, receiver));
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
    }, timeout);

    it('close: later calls fail with Unavailable, and a waiting receive ends', async () => {
      const q = newQueue();
      await queue.send(q, { pod: 'a' });
      const waiting = queue.receive(newQueue(), { waitMs: 20_000 }).then(
        (messages) => messages,
        (err: unknown) => err,
      );
      await sleep(200);
      const started = Date.now();
      await queue.close();
      const ended = await waiting;
      expect(Date.now() - started).toBeLessThan(5_000);
      if (!Array.isArray(ended)) expect(ended instanceof WorkQueueError ? ended.reason : ended).toBe('Unavailable');
      await expectReason(queue.send(q, { pod: 'b' }), 'Unavailable');
      await expectReason(queue.receive(q), 'Unavailable');
      await expectReason(queue.deadLetters(q), 'Unavailable');
      await queue.close();
    }, timeout);
  });
}

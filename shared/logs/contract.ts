/**
 * The LogSink contract suite: every log adapter runs it (`describeLogSinkContract('blob', ...)`).
 * It checks the contract written in `logsink.ts` through the port alone. Excluded from the build.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { LogLine, LogSink, LogStreamId } from './logsink.js';

/** LogSinkHarness is one sink for one test; `destroy` closes it. */
export interface LogSinkHarness {
  sink: LogSink;
  destroy: () => Promise<void>;
}

const BASE_MS = Date.parse('2026-01-01T00:00:00Z');

/** timeAt is an RFC 3339 time with nanoseconds, `ms` milliseconds after a fixed base. */
function timeAt(ms: number): string {
  return new Date(BASE_MS + ms).toISOString().replace('Z', '123456Z');
}

function lines(from: number, count: number, stream: LogLine['stream'] = 'stdout'): LogLine[] {
  return Array.from({ length: count }, (_, i) => ({ time: timeAt((from + i) * 1000), stream, text: `line ${from + i}` }));
}

const texts = (ls: readonly LogLine[]) => ls.map((l) => l.text);

/** nextLines takes `n` lines from a follow iterator, failing after `timeoutMs`. */
async function nextLines(it: AsyncIterator<LogLine>, n: number, timeoutMs = 10_000): Promise<LogLine[]> {
  const out: LogLine[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`follow gave ${out.length} of ${n} lines`)), Math.max(0, deadline - Date.now()));
    });
    const step = await Promise.race([it.next(), timeout]).finally(() => clearTimeout(timer));
    if (step.done) throw new Error(`follow ended after ${out.length} of ${n} lines`);
    out.push(step.value);
  }
  return out;
}

/** describeLogSinkContract runs the LogSink contract against sinks `open` creates. */
export function describeLogSinkContract(name: string, open: () => Promise<LogSinkHarness>): void {
  describe(`LogSink contract: ${name}`, () => {
    let h: LogSinkHarness;
    let id: LogStreamId;
    beforeEach(async () => {
      h = await open();
      id = { namespace: 'default', pod: `p-${randomUUID().slice(0, 8)}`, podUid: randomUUID(), container: 'c', restart: 0 };
    });
    afterEach(async () => h.destroy());

    it('reads nothing from a stream that does not exist', async () => {
      expect(await h.sink.read(id)).toEqual([]);
    });

    it('reads back appended lines with their time, stream and text, in order', async () => {
      const written = [...lines(0, 3), { time: timeAt(3000), stream: 'stderr' as const, text: 'oops: ünïcødé ✓' }, { time: timeAt(4000), stream: 'stdout' as const, text: '' }];
      await h.sink.append(id, written.slice(0, 2));
      await h.sink.append(id, written.slice(2));
      expect(await h.sink.read(id)).toEqual(written);
    });

    it('keeps calls for one stream in call order when they are not awaited one by one', async () => {
      const calls = Array.from({ length: 100 }, (_, i) => h.sink.append(id, lines(i * 3, 3)));
      await Promise.all(calls);
      expect(texts(await h.sink.read(id))).toEqual(texts(lines(0, 300)));
    });

    it('keeps streams apart: container, restart and pod uid each name a different stream', async () => {
      const other = [{ ...id, container: 'd' }, { ...id, restart: 1 }, { ...id, podUid: randomUUID() }];
      await Promise.all([h.sink.append(id, lines(0, 2)), ...other.map((o, i) => h.sink.append(o, lines(10 * (i + 1), 1)))]);
      expect(texts(await h.sink.read(id))).toEqual(['line 0', 'line 1']);
      for (const [i, o] of other.entries()) expect(texts(await h.sink.read(o))).toEqual([`line ${10 * (i + 1)}`]);
    });

    it('splits a text holding newlines into lines, and keeps very long lines whole', async () => {
      const long = 'x'.repeat(100_000) + 'é'.repeat(20_000);
      await h.sink.append(id, [{ time: timeAt(0), stream: 'stdout', text: 'a\nb' }, { time: timeAt(1), stream: 'stdout', text: long }]);
      const read = await h.sink.read(id);
      expect(read.map((l) => l.text.length)).toEqual([1, 1, long.length]);
      expect(read[2]!.text).toBe(long);
      expect(texts(await h.sink.read(id, { tailLines: 1 }))).toEqual([long]);
    });

    it('answers tailLines with the last lines (0: none; more than there are: all)', async () => {
      await h.sink.append(id, lines(0, 50));
      expect(texts(await h.sink.read(id, { tailLines: 3 }))).toEqual(['line 47', 'line 48', 'line 49']);
      expect(await h.sink.read(id, { tailLines: 0 })).toEqual([]);
      expect(await h.sink.read(id, { tailLines: 500 })).toHaveLength(50);
    });

    it('answers sinceMs with the lines at or after that time, alone or with tailLines', async () => {
      await h.sink.append(id, lines(0, 20));
      expect(texts(await h.sink.read(id, { sinceMs: BASE_MS + 17_000 }))).toEqual(['line 17', 'line 18', 'line 19']);
      expect(texts(await h.sink.read(id, { sinceMs: BASE_MS + 16_500 }))).toEqual(['line 17', 'line 18', 'line 19']);
      expect(texts(await h.sink.read(id, { sinceMs: BASE_MS + 10_000, tailLines: 2 }))).toEqual(['line 18', 'line 19']);
      expect(texts(await h.sink.read(id, { sinceMs: BASE_MS + 18_000, tailLines: 5 }))).toEqual(['line 18', 'line 19']);
      expect(await h.sink.read(id, { sinceMs: BASE_MS + 60_000 })).toEqual([]);
      expect(await h.sink.read(id, { sinceMs: BASE_MS - 60_000 })).toHaveLength(20);
    });

    it('answers limitBytes with whole lines up to the limit and the crossing line cut', async () => {
      await h.sink.append(id, lines(0, 10)); // "line N\n" is 7 bytes
      expect(texts(await h.sink.read(id, { limitBytes: 14 }))).toEqual(['line 0', 'line 1']);
      expect(texts(await h.sink.read(id, { limitBytes: 17 }))).toEqual(['line 0', 'line 1', 'lin']);
      expect(texts(await h.sink.read(id, { tailLines: 2, limitBytes: 10 }))).toEqual(['line 8', 'lin']);
    });

    it('finds the tail of a long stream', async () => {
      const batch = 2_000;
      for (let i = 0; i < 10; i++) await h.sink.append(id, lines(i * batch, batch).map((l) => ({ ...l, text: `${l.text} ${'-'.repeat(40)}` })));
      const tail = await h.sink.read(id, { tailLines: 3 });
      expect(tail.map((l) => l.text.split(' ')[1])).toEqual(['19997', '19998', '19999']);
      const since = await h.sink.read(id, { sinceMs: BASE_MS + 19_998_000 });
      expect(since.map((l) => l.text.split(' ')[1])).toEqual(['19998', '19999']);
    });

    it('follows: the read answer first, then lines appended later, until the signal aborts', async () => {
      await h.sink.append(id, lines(0, 5));
      const abort = new AbortController();
      const it = h.sink.follow(id, { tailLines: 2, signal: abort.signal })[Symbol.asyncIterator]();
      expect(texts(await nextLines(it, 2))).toEqual(['line 3', 'line 4']);
      await h.sink.append(id, lines(5, 2));
      await h.sink.append(id, lines(7, 1));
      expect(texts(await nextLines(it, 3))).toEqual(['line 5', 'line 6', 'line 7']);
      abort.abort();
      expect((await it.next()).done).toBe(true);
    });

    it('follows a stream that does not exist yet', async () => {
      const abort = new AbortController();
      const it = h.sink.follow(id, { signal: abort.signal })[Symbol.asyncIterator]();
      const first = nextLines(it, 2);
      await h.sink.append(id, lines(0, 2));
      expect(texts(await first)).toEqual(['line 0', 'line 1']);
      abort.abort();
      expect((await it.next()).done).toBe(true);
    });

    it('stops following once limitBytes is spent', async () => {
      await h.sink.append(id, lines(0, 1));
      const abort = new AbortController();
      const it = h.sink.follow(id, { limitBytes: 10, signal: abort.signal })[Symbol.asyncIterator]();
      expect(texts(await nextLines(it, 1))).toEqual(['line 0']);
      await h.sink.append(id, lines(1, 2));
      expect(texts(await nextLines(it, 1))).toEqual(['lin']);
      expect((await it.next()).done).toBe(true);
      abort.abort();
    });

    it('removePod deletes every stream of that pod and no other; the pod may log again after', async () => {
      const sibling = { ...id, container: 'side', restart: 2 };
      const otherPod = { ...id, pod: `${id.pod}-x`, podUid: randomUUID() };
      await Promise.all([h.sink.append(id, lines(0, 2)), h.sink.append(sibling, lines(0, 2)), h.sink.append(otherPod, lines(0, 2))]);
      await h.sink.removePod(id.namespace, id.pod, id.podUid);
      expect(await h.sink.read(id)).toEqual([]);
      expect(await h.sink.read(sibling)).toEqual([]);
      expect(await h.sink.read(otherPod)).toHaveLength(2);
      await h.sink.removePod(id.namespace, id.pod, id.podUid); // idempotent
      await h.sink.append(id, lines(5, 1));
      expect(texts(await h.sink.read(id))).toEqual(['line 5']);
    });
  });
}

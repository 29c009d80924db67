/**
 * The read side of the blob sink. A stream is read as its segments in order. Without `tailLines`
 * or `sinceMs` it is read forward (stopping early at `limitBytes`); with either it is read
 * backward from the end in growing range reads (64 KiB, doubling to 4 MiB) until enough lines,
 * or a line older than `sinceMs`, are in hand — so `--tail=10` of a 1 GiB log costs one request.
 * Lines are assumed to be stored in time order (one writer per stream appends them as they come).
 */
import type { ContainerClient } from '@azure/storage-blob';
import type { LogLine, ReadLogOptions } from '../../../shared/logs/logsink.js';
import { applyLimitBytes, joinRecords, lineBytes, parseRecord, timeMs, type LogRecord } from './format.js';
import { isStatus, listSegments, readRange, segmentName, type Segment } from './segments.js';

const FIRST_CHUNK = 64 * 1024;
const MAX_CHUNK = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** Position is where a stream's next unread byte is: a segment index and an offset in it. */
export interface Position {
  index: number;
  offset: number;
}

/** Selection is a read's answer and the position right after what it saw. */
export interface Selection {
  lines: LogLine[];
  end: Position;
}

function recordsOf(bytes: Buffer): LogRecord[] {
  if (bytes.length === 0) return [];
  const text = bytes.toString('utf8');
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').map(parseRecord);
}

/** selectLines applies since, then tail, then limitBytes, to lines in order. */
export function selectLines(lines: readonly LogLine[], options: ReadLogOptions): LogLine[] {
  const since = options.sinceMs;
  let out = since === undefined ? [...lines] : lines.filter((l) => !(timeMs(l) < since));
  if (options.tailLines !== undefined) out = options.tailLines <= 0 ? [] : out.slice(-options.tailLines);
  return applyLimitBytes(out, options.limitBytes);
}

async function readForward(container: ContainerClient, segments: readonly Segment[], limitBytes: number | undefined): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  let bytes = 0;
  for (const segment of segments) {
    for (let offset = 0; offset < segment.length;) {
      // Segments hold whole records, but a range read may end inside one: keep that part for the next read.
      const chunk = await readRange(container, segment.name, offset, Math.min(MAX_CHUNK, segment.length - offset));
      const last = chunk.lastIndexOf(NEWLINE);
      const whole = last < 0 || offset + chunk.length === segment.length ? chunk : chunk.subarray(0, last + 1);
      offset += whole.length;
      for (const r of recordsOf(whole)) {
        records.push(r);
        bytes += lineBytes(r);
      }
      if (limitBytes !== undefined && bytes >= limitBytes) return records;
    }
  }
  return records;
}

/** enough tells whether records (a suffix of the stream, starting at a record) already answer the options. */
function enough(records: readonly LogRecord[], options: ReadLogOptions): boolean {
  let complete = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.partial) continue;
    complete += 1;
    if (options.tailLines !== undefined && complete > options.tailLines) return true;
    if (options.sinceMs !== undefined && timeMs(r) < options.sinceMs) return true;
  }
  return false;
}

async function readBackward(container: ContainerClient, segments: readonly Segment[], options: ReadLogOptions): Promise<LogRecord[]> {
  let seen: LogRecord[] = [];
  for (let s = segments.length - 1; s >= 0; s--) {
    const segment = segments[s]!;
    let pos = segment.length;
    let carry = Buffer.alloc(0);
    let chunk = FIRST_CHUNK;
    while (pos > 0) {
      const start = Math.max(0, pos - chunk);
      const buf = Buffer.concat([await readRange(container, segment.name, start, pos - start), carry]);
      pos = start;
      chunk = Math.min(chunk * 2, MAX_CHUNK);
      // Bytes before the first newline belong to a record that starts earlier: read it with the next range.
      const cut = start === 0 ? 0 : buf.indexOf(NEWLINE) + 1;
      carry = buf.subarray(0, cut);
      seen = recordsOf(buf.subarray(cut)).concat(seen);
      if (enough(seen, options)) return dropLeadingLine(seen);
    }
  }
  return seen;
}

/** dropLeadingLine removes records up to the first whole line's end: what precedes it may be incomplete. */
function dropLeadingLine(records: LogRecord[]): LogRecord[] {
  const first = records.findIndex((r) => !r.partial);
  return records.slice(first + 1);
}

/** readSelection reads a stream's lines as `options` ask, and where the stream ended when it was listed. */
export async function readSelection(container: ContainerClient, base: string, options: ReadLogOptions): Promise<Selection> {
  const segments = await listSegments(container, base);
  const last = segments.at(-1);
  const end = last ? { index: last.index, offset: last.length } : { index: 0, offset: 0 };
  const backward = options.tailLines !== undefined || options.sinceMs !== undefined;
  const records = backward ? await readBackward(container, segments, options) : await readForward(container, segments, options.limitBytes);
  return { lines: selectLines(joinRecords(records), options), end };
}

/** FollowOptions are read's options, the abort signal, and how often to look for more. */
export interface FollowOptions extends ReadLogOptions {
  signal: AbortSignal;
  pollIntervalMs: number;
  maxBlocksPerBlob: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** lengthOf returns a segment's length and committed block count, or undefined if it does not exist. */
async function lengthOf(container: ContainerClient, name: string): Promise<{ length: number; blocks: number } | undefined> {
  try {
    const props = await container.getBlobClient(name).getProperties();
    return { length: props.contentLength ?? 0, blocks: props.blobCommittedBlockCount ?? 0 };
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

/**
 * followStream yields what `readSelection` answers, then each line appended later, polling the
 * current segment's length (and, once it is full, the next segment's existence), until the
 * signal aborts, `limitBytes` is spent, or the stream is deleted.
 */
export async function* followStream(container: ContainerClient, base: string, options: FollowOptions): AsyncGenerator<LogLine> {
  const { signal } = options;
  const first = await readSelection(container, base, options);
  let budget = options.limitBytes ?? Infinity;
  const emit = (lines: readonly LogLine[]) => {
    const out = applyLimitBytes(lines, budget);
    for (const l of out) budget -= lineBytes(l);
    return out;
  };
  yield* emit(first.lines);
  const pos = first.end;
  let pending: LogRecord[] = [];
  let existed = pos.offset > 0;
  while (!signal.aborted && budget > 0) {
    await sleep(options.pollIntervalMs, signal);
    if (signal.aborted) return;
    const name = segmentName(base, pos.index);
    const now = await lengthOf(container, name);
    if (!now) {
      if (existed) return; // deleted (the pod is gone)
      continue;
    }
    existed = true;
    if (now.length > pos.offset) {
      const bytes = await readRange(container, name, pos.offset, now.length - pos.offset);
      pos.offset = now.length;
      const records = pending.concat(recordsOf(bytes));
      const lastWhole = records.findLastIndex((r) => !r.partial);
      pending = records.slice(lastWhole + 1);
      const lines = joinRecords(records.slice(0, lastWhole + 1));
      const since = options.sinceMs;
      yield* emit(since === undefined ? lines : lines.filter((l) => !(timeMs(l) < since)));
    } else if (now.blocks >= options.maxBlocksPerBlob && (await lengthOf(container, segmentName(base, pos.index + 1)))) {
      pos.index += 1;
      pos.offset = 0;
    }
  }
}

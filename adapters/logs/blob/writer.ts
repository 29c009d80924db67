/**
 * The append side of the blob sink: lines are buffered per stream and written as append blocks.
 *
 * Group commit: a stream with nothing in flight writes at once, so an idle container's line is
 * stored within one round trip; lines that arrive while a block is being written, or within
 * `flushIntervalMs` of the last write, share the next block. So a chatty container costs at most
 * one block per interval, whatever the caller's call rate, and a block never exceeds 4 MiB.
 * When a segment reaches `maxBlocksPerBlob` the stream continues in the next segment.
 */
import type { AppendBlobClient, ContainerClient } from '@azure/storage-blob';
import type { LogLine, LogStreamId } from '../../../shared/logs/logsink.js';
import { formatLines } from './format.js';
import { isStatus, listSegments, segmentName, streamBase } from './segments.js';

/** MAX_APPEND_BLOCK_BYTES is Azure's limit for one append block (4 MiB). */
export const MAX_APPEND_BLOCK_BYTES = 4 * 1024 * 1024;
/** MAX_BLOCKS_PER_BLOB is Azure's limit of committed blocks in one append blob. */
export const MAX_BLOCKS_PER_BLOB = 50_000;

/** WriterOptions tune batching; tests lower them to see rollover. */
export interface WriterOptions {
  flushIntervalMs: number;
  maxBlocksPerBlob: number;
  maxBlockBytes: number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

interface StreamState {
  base: string;
  pending: string;
  waiters: Waiter[];
  /** The segment being appended to, once known. */
  segment?: { index: number; blocks: number };
  flushing?: Promise<void>;
  timer?: NodeJS.Timeout;
  lastWriteAt: number;
}

/** splitBlocks cuts text into chunks of at most `maxBytes`, at record ends when a record fits. */
export function splitBlocks(text: string, maxBytes: number): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const blocks: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + maxBytes, bytes.length);
    if (end < bytes.length) {
      const cut = bytes.lastIndexOf(0x0a, end - 1);
      if (cut >= start) end = cut + 1;
    }
    blocks.push(bytes.subarray(start, end));
    start = end;
  }
  return blocks;
}

/**
 * BlobLogWriter batches appends per stream; one per sink. It remembers each stream's segment (a
 * few numbers) until `forgetPod`, so an append costs one request, not a lookup as well.
 */
export class BlobLogWriter {
  private readonly streams = new Map<string, StreamState>();

  constructor(
    private readonly container: () => Promise<ContainerClient>,
    private readonly options: WriterOptions,
  ) {}

  /** append buffers `lines` and resolves once they are stored. */
  append(id: LogStreamId, lines: readonly LogLine[]): Promise<void> {
    const text = formatLines(lines);
    if (text === '') return Promise.resolve();
    const base = streamBase(id);
    let state = this.streams.get(base);
    if (!state) {
      state = { base, pending: '', waiters: [], lastWriteAt: 0 };
      this.streams.set(base, state);
    }
    state.pending += text;
    const stored = new Promise<void>((resolve, reject) => state.waiters.push({ resolve, reject }));
    this.schedule(state);
    return stored;
  }

  /** flush writes everything buffered now (ignoring the interval) and waits for it. */
  async flush(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => this.drain(s)));
  }

  /** forgetPod drops the state of a pod's streams (after its blobs are deleted), flushing nothing. */
  forgetPod(prefix: string): void {
    for (const [base, state] of this.streams) {
      if (!base.startsWith(prefix) || state.flushing) continue;
      clearTimeout(state.timer);
      this.streams.delete(base);
    }
  }

  private async drain(state: StreamState): Promise<void> {
    clearTimeout(state.timer);
    state.timer = undefined;
    while (state.flushing || state.pending !== '') {
      if (state.flushing) await state.flushing.catch(() => undefined);
      else this.startFlush(state);
    }
  }

  private schedule(state: StreamState): void {
    if (state.flushing || state.timer) return;
    const wait = state.lastWriteAt + this.options.flushIntervalMs - Date.now();
    if (wait <= 0) this.startFlush(state);
    else state.timer = setTimeout(() => {
      state.timer = undefined;
      this.startFlush(state);
    }, wait);
  }

  private startFlush(state: StreamState): void {
    if (state.pending === '') return;
    const text = state.pending;
    const waiters = state.waiters;
    state.pending = '';
    state.waiters = [];
    state.lastWriteAt = Date.now();
    state.flushing = this.write(state, text).then(
      () => waiters.forEach((w) => w.resolve()),
      (err: unknown) => waiters.forEach((w) => w.reject(err)),
    ).finally(() => {
      state.flushing = undefined;
      state.lastWriteAt = Date.now();
      if (state.pending !== '') this.schedule(state);
    });
  }

  private async write(state: StreamState, text: string): Promise<void> {
    for (const block of splitBlocks(text, this.options.maxBlockBytes)) {
      try {
        await this.appendBlock(state, block);
      } catch (err) {
        // The blob was deleted under us (removePod, or by hand): find or create the segment again.
        if (!isStatus(err, 404)) throw err;
        state.segment = undefined;
        await this.appendBlock(state, block);
      }
    }
  }

  private async appendBlock(state: StreamState, block: Buffer): Promise<void> {
    const container = await this.container();
    const segment = (state.segment ??= await this.findSegment(container, state.base));
    if (segment.blocks >= this.options.maxBlocksPerBlob) {
      segment.index += 1;
      segment.blocks = 0;
    }
    const blob = container.getAppendBlobClient(segmentName(state.base, segment.index));
    if (segment.blocks === 0) await this.create(blob);
    const res = await blob.appendBlock(block, block.length);
    segment.blocks = res.blobCommittedBlockCount ?? segment.blocks + 1;
  }

  /** Creating an existing append blob would empty it: create only if absent. */
  private async create(blob: AppendBlobClient): Promise<void> {
    await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' } });
  }

  /** findSegment picks up a stream where it was left (an agent restarted): its last segment and block count. */
  private async findSegment(container: ContainerClient, base: string): Promise<{ index: number; blocks: number }> {
    const segments = await listSegments(container, base);
    const last = segments.at(-1);
    if (!last) return { index: 0, blocks: 0 };
    const props = await container.getAppendBlobClient(last.name).getProperties();
    return { index: last.index, blocks: props.blobCommittedBlockCount ?? 0 };
  }
}

/**
 * Ships one container instance's output to the LogSink: follows the engine's log stream (with
 * timestamps), splits it into lines per stream and appends them in batches, in order (without
 * waiting for one append before making the next: the sink keeps them in order).
 */
import type Docker from 'dockerode';
import type { LogLine, LogSink, LogStreamId } from '../../../shared/logs/logsink.js';

const FLUSH_MS = 100;
const MAX_BATCH = 500;

/** LogShipperOptions are what followContainerLogs needs. */
export interface LogShipperOptions {
  docker: Docker;
  containerId: string;
  sink: LogSink;
  stream: LogStreamId;
  signal: AbortSignal;
  /** Called when appending fails (the shipper keeps going). */
  onError?: (err: unknown) => void;
}

/** splitTimestamp splits a Docker log line "2026-…Z text" into its time and text. */
export function splitTimestamp(line: string): { time: string; text: string } {
  const space = line.indexOf(' ');
  if (space < 0) return { time: line, text: '' };
  return { time: line.slice(0, space), text: line.slice(space + 1) };
}

/**
 * followContainerLogs ships the instance's output until its log stream ends (the container exited)
 * or `signal` aborts; it resolves once every line read has been appended. Lines already in the sink
 * (an agent restarted mid-stream) are skipped by their timestamp.
 */
export async function followContainerLogs(options: LogShipperOptions): Promise<void> {
  const { docker, containerId, sink, stream, signal } = options;
  const last = (await sink.read(stream, { tailLines: 1 }).catch(() => []))[0]?.time;
  const raw = (await docker.getContainer(containerId).logs({
    follow: true, stdout: true, stderr: true, timestamps: true,
    ...(last ? { since: Math.floor(Date.parse(last) / 1000) } : {}),
  })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  const onAbort = () => raw.destroy();
  signal.addEventListener('abort', onAbort, { once: true });

  let batch: LogLine[] = [];
  // The sink orders the calls of one stream and batches calls made close together (LogSink's
  // contract): appends are not chained, so a slow store round trip never holds back the next batch.
  const appending = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    const append = sink.append(stream, lines).catch((err: unknown) => options.onError?.(err));
    appending.add(append);
    void append.finally(() => appending.delete(append));
  };
  const partial = { stdout: '', stderr: '' };
  const emit = (kind: 'stdout' | 'stderr', text: string) => {
    partial[kind] += text;
    let nl: number;
    while ((nl = partial[kind].indexOf('\n')) >= 0) {
      const { time, text: line } = splitTimestamp(partial[kind].slice(0, nl));
      partial[kind] = partial[kind].slice(nl + 1);
      if (last && time <= last) continue;
      batch.push({ time, stream: kind, text: line });
    }
    if (batch.length >= MAX_BATCH) flush();
    else timer ??= setTimeout(flush, FLUSH_MS);
  };

  // The engine multiplexes stdout and stderr in frames: [stream, 0, 0, 0, size (uint32 BE)] + payload.
  let pending = Buffer.alloc(0);
  await new Promise<void>((done) => {
    raw.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8) {
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) break;
        emit(pending[0] === 2 ? 'stderr' : 'stdout', pending.subarray(8, 8 + size).toString('utf8'));
        pending = pending.subarray(8 + size);
      }
    });
    raw.on('end', done);
    raw.on('close', done);
    raw.on('error', done);
  });
  signal.removeEventListener('abort', onAbort);
  for (const kind of ['stdout', 'stderr'] as const) if (partial[kind]) emit(kind, '\n');
  flush();
  await Promise.all(appending);
}

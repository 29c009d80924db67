/**
 * The LogSink port: where container output goes, and where `kubectl logs` reads it from.
 *
 * One log stream per container instance: (namespace, pod, container, restart number). Each line is
 * stored with its timestamp so `--timestamps`, `--since` and `--tail` can be answered by the
 * reader. Adapters: Azure Blob Storage append blobs (Azurite locally).
 */

/** LogStreamId names one container instance's output. */
export interface LogStreamId {
  namespace: string;
  pod: string;
  /** The pod's uid: a new pod with the same name starts new logs. */
  podUid: string;
  container: string;
  /** The container's restartCount when this instance started (0 for the first). */
  restart: number;
}

/** LogLine is one line of output (without its newline) and when it was written. */
export interface LogLine {
  /** RFC 3339 with nanoseconds, as Kubernetes prints with --timestamps. */
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** ReadLogOptions mirror the pods/log query (`tailLines`, `sinceTime`/`sinceSeconds`, `limitBytes`). */
export interface ReadLogOptions {
  tailLines?: number;
  /** Only lines at or after this epoch millisecond. */
  sinceMs?: number;
  /** At most this many bytes of text (each line's text and newline); the line crossing it is cut. */
  limitBytes?: number;
}

/** LogSink is the contract every log adapter keeps. */
export interface LogSink {
  /**
   * append adds lines to a stream (created on first append) and resolves once they are stored;
   * calls for one stream are ordered. Lines are expected in time order. Adapters may batch calls
   * made close together, so a caller need not await one call before making the next.
   */
  append(id: LogStreamId, lines: readonly LogLine[]): Promise<void>;
  /** read returns the stream's lines (empty if it does not exist). */
  read(id: LogStreamId, options?: ReadLogOptions): Promise<LogLine[]>;
  /**
   * follow yields what `read` with the same options answers, then every line appended after it (no
   * gap, no repeat), until `signal` aborts, `limitBytes` is spent, or the stream is removed. A
   * stream that does not exist yet is waited for.
   */
  follow(id: LogStreamId, options: ReadLogOptions & { signal: AbortSignal }): AsyncIterable<LogLine>;
  /** remove deletes every stream of a pod (after the pod is gone). */
  removePod(namespace: string, pod: string, podUid: string): Promise<void>;
  /** close stores whatever an adapter still buffers and releases it; later appends fail. Optional. */
  close?(): Promise<void>;
}

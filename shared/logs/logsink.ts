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
  limitBytes?: number;
}

/** LogSink is the contract every log adapter keeps. */
export interface LogSink {
  /** append adds lines to a stream (created on first append); calls for one stream are ordered. */
  append(id: LogStreamId, lines: readonly LogLine[]): Promise<void>;
  /** read returns the stream's lines (empty if it does not exist). */
  read(id: LogStreamId, options?: ReadLogOptions): Promise<LogLine[]>;
  /** follow yields the stream's lines from the end of `read`'s answer on, until `signal` aborts. */
  follow(id: LogStreamId, options: ReadLogOptions & { signal: AbortSignal }): AsyncIterable<LogLine>;
  /** remove deletes every stream of a pod (after the pod is gone). */
  removePod(namespace: string, pod: string, podUid: string): Promise<void>;
}

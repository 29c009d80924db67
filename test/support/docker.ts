/**
 * Test support for suites that need a Docker engine: a private dockerd under one temp folder
 * (shared by every suite of the run, stopped by the suite that started it), the sample images,
 * and an in-memory LogSink.
 */
import Docker from 'dockerode';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSampleImages, SAMPLE_IMAGES } from '../../cli/images.js';
import { DockerdError, findDockerd, startPrivateDockerd, type PrivateDockerd } from '../../local/dockerd.js';
import type { LogLine, LogSink, LogStreamId, ReadLogOptions } from '../../shared/logs/logsink.js';

/** DockerEnv is a reachable engine with the sample images built. */
export interface DockerEnv {
  docker: Docker;
  socketPath: string;
  daemon: PrivateDockerd;
  stop(): Promise<void>;
}

/** dockerUnavailable says why engine suites must skip, or undefined when they can run. */
export function dockerUnavailable(): string | undefined {
  if (!findDockerd()) return 'dockerd is not installed (apt-get install docker.io busybox-static)';
  if (process.getuid?.() !== 0) return 'a private dockerd needs root';
  return undefined;
}

/** startTestDocker starts (or reuses) the private dockerd and builds any missing sample image. */
export async function startTestDocker(): Promise<DockerEnv> {
  const daemon = await startPrivateDockerd(process.env.CORACLE_TEST_DOCKERD_DIR ?? join(tmpdir(), 'coracle-test-dockerd'));
  const docker = new Docker({ socketPath: daemon.socketPath });
  const present = new Set((await docker.listImages()).flatMap((i) => i.RepoTags ?? []));
  const missing = SAMPLE_IMAGES.map((i) => i.tag).filter((t) => !present.has(t));
  if (missing.length > 0) await buildSampleImages(docker, missing.includes('coracle/busybox:latest') ? undefined : missing);
  return {
    docker,
    socketPath: daemon.socketPath,
    daemon,
    // A daemon this run reused belongs to whoever started it.
    stop: () => (daemon.reused ? Promise.resolve() : daemon.stop()),
  };
}

export { DockerdError };

function key(id: LogStreamId): string {
  return `${id.namespace}/${id.pod}/${id.podUid}/${id.container}/${id.restart}`;
}

/** MemoryLogSink keeps log streams in memory (tests only; follow polls). */
export class MemoryLogSink implements LogSink {
  readonly streams = new Map<string, LogLine[]>();

  async append(id: LogStreamId, lines: readonly LogLine[]): Promise<void> {
    this.streams.set(key(id), [...(this.streams.get(key(id)) ?? []), ...lines]);
  }

  async read(id: LogStreamId, options: ReadLogOptions = {}): Promise<LogLine[]> {
    const lines = (this.streams.get(key(id)) ?? []).filter((l) => options.sinceMs === undefined || Date.parse(l.time) >= options.sinceMs);
    return options.tailLines === undefined ? lines : lines.slice(-options.tailLines);
  }

  async *follow(id: LogStreamId, options: ReadLogOptions & { signal: AbortSignal }): AsyncIterable<LogLine> {
    let seen = (await this.read(id, options)).length;
    while (!options.signal.aborted) {
      const lines = this.streams.get(key(id)) ?? [];
      for (; seen < lines.length; seen++) yield lines[seen];
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async removePod(namespace: string, pod: string, podUid: string): Promise<void> {
    for (const k of this.streams.keys()) if (k.startsWith(`${namespace}/${pod}/${podUid}/`)) this.streams.delete(k);
  }

  /** text returns one stream's lines as text. */
  text(id: LogStreamId): string[] {
    return (this.streams.get(key(id)) ?? []).map((l) => l.text);
  }
}

/**
 * Where a stream lives: one append blob per container instance,
 * `<namespace>/<pod>/<podUid>/<container>/<restart>.log`, and — once that blob holds the most
 * blocks the sink allows (Azure caps an append blob at 50,000) — more segments of the same
 * stream, `<restart>.log.1`, `<restart>.log.2`, … read in order as one.
 */
import type { ContainerClient } from '@azure/storage-blob';
import type { LogStreamId } from '../../../shared/logs/logsink.js';

/** Segment is one blob of a stream: its index (0 is `<restart>.log`), name and length in bytes. */
export interface Segment {
  index: number;
  name: string;
  length: number;
}

/** podPrefix is the blob name prefix of every stream of one pod (instance). */
export function podPrefix(namespace: string, pod: string, podUid: string): string {
  return `${namespace}/${pod}/${podUid}/`;
}

/** streamBase is the name of a stream's first segment. */
export function streamBase(id: LogStreamId): string {
  return `${podPrefix(id.namespace, id.pod, id.podUid)}${id.container}/${id.restart}.log`;
}

/** segmentName names segment `index` of the stream whose first segment is `base`. */
export function segmentName(base: string, index: number): string {
  return index === 0 ? base : `${base}.${index}`;
}

/** listSegments lists a stream's segments in order (none if the stream does not exist). */
export async function listSegments(container: ContainerClient, base: string): Promise<Segment[]> {
  const segments: Segment[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: base })) {
    const suffix = blob.name.slice(base.length);
    const index = suffix === '' ? 0 : /^\.[1-9]\d*$/.test(suffix) ? Number(suffix.slice(1)) : -1;
    if (index >= 0) segments.push({ index, name: blob.name, length: blob.properties.contentLength ?? 0 });
  }
  return segments.sort((a, b) => a.index - b.index);
}

/** readRange downloads `count` bytes of a blob from `offset` (count 0 reads nothing). */
export async function readRange(container: ContainerClient, name: string, offset: number, count: number): Promise<Buffer> {
  if (count <= 0) return Buffer.alloc(0);
  return container.getBlobClient(name).downloadToBuffer(offset, count);
}

/** isStatus tells whether an Azure SDK error carries HTTP status `code`. */
export function isStatus(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: number }).statusCode === code;
}

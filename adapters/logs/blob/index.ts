/**
 * The LogSink on Azure Blob Storage append blobs (Azurite locally): one append blob per container
 * instance in the container `container-logs`, each line in Kubernetes' CRI log format. See
 * writer.ts (batched appends, segment rollover), reader.ts (tail/since reads, follow by polling)
 * and segments.ts (blob names).
 */
import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/core-auth';
import type { LogLine, LogSink, LogStreamId, ReadLogOptions } from '../../../shared/logs/logsink.js';
import { followStream, readSelection } from './reader.js';
import { isStatus, podPrefix, streamBase } from './segments.js';
import { BlobLogWriter, MAX_APPEND_BLOCK_BYTES, MAX_BLOCKS_PER_BLOB } from './writer.js';

/** LOG_CONTAINER is the blob container logs go to by default. */
export const LOG_CONTAINER = 'container-logs';

/**
 * BlobLogSinkOptions say where the logs are — a connection string (Azurite's dev account, or an
 * account key), a container URL carrying a SAS (what an agent in Azure gets), or a ready
 * ContainerClient — and tune batching and polling.
 */
export interface BlobLogSinkOptions {
  connectionString?: string;
  /** `https://<account>.blob.core.windows.net/container-logs?<sas>`: used as is; the container must exist. */
  containerUrl?: string;
  /** The account's blob endpoint (`https://<account>.blob.core.windows.net`), with `credential`. */
  accountUrl?: string;
  /** A token credential (managed identity) for `accountUrl`. */
  credential?: TokenCredential;
  /** A client built by the caller. */
  containerClient?: ContainerClient;
  /** The container name with `connectionString` or `accountUrl` (default `container-logs`). */
  containerName?: string;
  /** The least time between two appends to one stream; lines in between share one block (default 20 ms). */
  flushIntervalMs?: number;
  /** How often `follow` looks for new lines (default 500 ms). */
  pollIntervalMs?: number;
  /** Blocks per blob before a stream rolls over to a new segment (default and maximum 50,000). */
  maxBlocksPerBlob?: number;
  /** The largest append block (default and maximum 4 MiB). */
  maxBlockBytes?: number;
}

/** BlobLogSink is a LogSink that buffers appends: `flush` stores what is buffered, `close` flushes and stops. */
export interface BlobLogSink extends LogSink {
  flush(): Promise<void>;
  close(): Promise<void>;
}

function containerFrom(options: BlobLogSinkOptions): { client: ContainerClient; mayCreate: boolean } {
  if (options.containerClient) return { client: options.containerClient, mayCreate: true };
  if (options.containerUrl) return { client: new ContainerClient(options.containerUrl), mayCreate: false };
  const name = options.containerName ?? LOG_CONTAINER;
  if (options.accountUrl) return { client: new BlobServiceClient(options.accountUrl, options.credential).getContainerClient(name), mayCreate: true };
  if (!options.connectionString) throw new Error('the blob log sink needs a connectionString, accountUrl, containerUrl or containerClient');
  const service = BlobServiceClient.fromConnectionString(options.connectionString);
  return { client: service.getContainerClient(name), mayCreate: true };
}

/** createBlobLogSink builds the sink; the container is created on first use when the credentials allow. */
export function createBlobLogSink(options: BlobLogSinkOptions): BlobLogSink {
  const { client, mayCreate } = containerFrom(options);
  let ready: Promise<ContainerClient> | undefined;
  const container = () => {
    ready ??= (mayCreate ? client.createIfNotExists().then(() => client) : Promise.resolve(client)).catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return ready;
  };
  const maxBlocksPerBlob = Math.min(options.maxBlocksPerBlob ?? MAX_BLOCKS_PER_BLOB, MAX_BLOCKS_PER_BLOB);
  const writer = new BlobLogWriter(container, {
    flushIntervalMs: options.flushIntervalMs ?? 20,
    maxBlocksPerBlob,
    maxBlockBytes: Math.min(options.maxBlockBytes ?? MAX_APPEND_BLOCK_BYTES, MAX_APPEND_BLOCK_BYTES),
  });
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  let closed = false;
  return {
    append(id: LogStreamId, lines: readonly LogLine[]): Promise<void> {
      if (closed) return Promise.reject(new Error('the log sink is closed'));
      return writer.append(id, lines);
    },
    async read(id: LogStreamId, readOptions: ReadLogOptions = {}): Promise<LogLine[]> {
      return (await readSelection(await container(), streamBase(id), readOptions)).lines;
    },
    async *follow(id: LogStreamId, followOptions: ReadLogOptions & { signal: AbortSignal }): AsyncIterable<LogLine> {
      yield* followStream(await container(), streamBase(id), { ...followOptions, pollIntervalMs, maxBlocksPerBlob });
    },
    async removePod(namespace: string, pod: string, podUid: string): Promise<void> {
      const prefix = podPrefix(namespace, pod, podUid);
      await writer.flush();
      const c = await container();
      const names: string[] = [];
      for await (const blob of c.listBlobsFlat({ prefix })) names.push(blob.name);
      await Promise.all(names.map((name) => c.deleteBlob(name).catch((err: unknown) => {
        if (!isStatus(err, 404)) throw err;
      })));
      writer.forgetPod(prefix);
    },
    flush: () => writer.flush(),
    async close(): Promise<void> {
      closed = true;
      await writer.flush();
    },
  };
}

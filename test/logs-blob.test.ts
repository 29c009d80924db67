/**
 * The blob LogSink against Azurite (started here through local/azurite.ts): the LogSink contract,
 * then what is particular to append blobs — batching into few blocks, block size, segment
 * rollover (read, tail, since and follow across segments), and picking a stream up again from a
 * new sink (an agent restart).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../local/azurite.js';
import { createBlobLogSink, LOG_CONTAINER, type BlobLogSinkOptions } from '../adapters/logs/blob/index.js';
import { describeLogSinkContract } from '../shared/logs/contract.js';
import { logSinkFromSettings } from '../functions/runtime.js';
import type { LogLine, LogStreamId } from '../shared/logs/logsink.js';

jest.setTimeout(60_000);

let azurite: Azurite;
let dir: string;
let container: ContainerClient;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-logs-blob-'));
  azurite = await startAzurite({ location: path.join(dir, 'azurite') });
  container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(LOG_CONTAINER);
});
afterAll(async () => {
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

const sinkWith = (options: Partial<BlobLogSinkOptions> = {}) =>
  createBlobLogSink({ connectionString: azurite.connectionString, pollIntervalMs: 50, ...options });

describeLogSinkContract('blob (Azurite)', async () => {
  const sink = sinkWith();
  return { sink, destroy: () => sink.close() };
});

const newId = (): LogStreamId => ({ namespace: 'ns', pod: `p-${randomUUID().slice(0, 6)}`, podUid: randomUUID(), container: 'app', restart: 0 });
const at = (s: number) => new Date(Date.parse('2026-02-01T00:00:00Z') + s * 1000).toISOString();
const numbered = (from: number, n: number): LogLine[] => Array.from({ length: n }, (_, i) => ({ time: at(from + i), stream: 'stdout', text: `n${from + i}` }));
const base = (id: LogStreamId) => `${id.namespace}/${id.pod}/${id.podUid}/${id.container}/${id.restart}.log`;

async function blobsOf(id: LogStreamId): Promise<{ name: string; blocks: number }[]> {
  const out: { name: string; blocks: number }[] = [];
  for await (const b of container.listBlobsFlat({ prefix: base(id) })) {
    const props = await container.getAppendBlobClient(b.name).getProperties();
    out.push({ name: b.name, blocks: props.blobCommittedBlockCount ?? -1 });
  }
  return out;
}

describe('blob LogSink on Azurite', () => {
  it('stores a stream as one append blob named after the instance, in the CRI log format', async () => {
    const sink = sinkWith();
    const id = newId();
    await sink.append(id, [{ time: '2016-10-06T00:17:09.669794202Z', stream: 'stderr', text: 'hello' }]);
    const text = (await container.getBlobClient(base(id)).downloadToBuffer()).toString();
    expect(text).toBe('2016-10-06T00:17:09.669794202Z stderr F hello\n');
    expect((await container.getBlobClient(base(id)).getProperties()).blobType).toBe('AppendBlob');
    await sink.close();
  });

  it('batches calls made close together into few blocks', async () => {
    const sink = sinkWith({ flushIntervalMs: 200 });
    const id = newId();
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => sink.append(id, numbered(i, 1))));
    const [blob] = await blobsOf(id);
    expect(blob!.blocks).toBeLessThanOrEqual(3);
    expect((await sink.read(id)).map((l) => l.text)).toEqual(numbered(0, 1_000).map((l) => l.text));
    await sink.close();
  });

  it('keeps each block within the block size, cutting at line ends', async () => {
    const sink = sinkWith({ maxBlockBytes: 1024 });
    const id = newId();
    const lines = numbered(0, 500);
    await sink.append(id, lines);
    const [blob] = await blobsOf(id);
    const bytes = lines.reduce((n, l) => n + `${l.time} stdout F ${l.text}\n`.length, 0);
    expect(blob!.blocks).toBeGreaterThanOrEqual(Math.ceil(bytes / 1024));
    expect((await sink.read(id)).map((l) => l.text)).toEqual(lines.map((l) => l.text));
    await sink.close();
  });

  it('rolls over to new segments at maxBlocksPerBlob and reads them as one stream', async () => {
    const sink = sinkWith({ maxBlocksPerBlob: 3, flushIntervalMs: 0 });
    const id = newId();
    for (let i = 0; i < 10; i++) await sink.append(id, numbered(i * 2, 2));
    const blobs = await blobsOf(id);
    expect(blobs.map((b) => b.name.slice(base(id).length))).toEqual(['', '.1', '.2', '.3']);
    expect(blobs.map((b) => b.blocks)).toEqual([3, 3, 3, 1]);
    expect((await sink.read(id)).map((l) => l.text)).toEqual(numbered(0, 20).map((l) => l.text));
    expect((await sink.read(id, { tailLines: 7 })).map((l) => l.text)).toEqual(numbered(13, 7).map((l) => l.text));
    expect((await sink.read(id, { sinceMs: Date.parse(at(4)) })).map((l) => l.text)).toEqual(numbered(4, 16).map((l) => l.text));
    expect((await sink.read(id, { limitBytes: 3 * 8 })).map((l) => l.text)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7']);
    await sink.close();
  });

  it('follows across a rollover', async () => {
    const sink = sinkWith({ maxBlocksPerBlob: 2, flushIntervalMs: 0 });
    const id = newId();
    await sink.append(id, numbered(0, 1));
    const abort = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const l of sink.follow(id, { signal: abort.signal })) {
        seen.push(l.text);
        if (seen.length === 6) abort.abort();
      }
    })();
    for (let i = 1; i < 6; i++) await sink.append(id, numbered(i, 1));
    await following;
    expect(seen).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5']);
    expect((await blobsOf(id)).length).toBe(3);
    await sink.close();
  });

  it('a new sink (an agent restarted) continues the same stream and its segment count', async () => {
    const first = sinkWith({ maxBlocksPerBlob: 2, flushIntervalMs: 0 });
    const id = newId();
    await first.append(id, numbered(0, 1));
    await first.close();
    await expect(first.append(id, numbered(1, 1))).rejects.toThrow(/closed/);
    const second = sinkWith({ maxBlocksPerBlob: 2, flushIntervalMs: 0 });
    await second.append(id, numbered(1, 1));
    await second.append(id, numbered(2, 1));
    expect((await blobsOf(id)).map((b) => b.blocks)).toEqual([2, 1]);
    expect((await second.read(id)).map((l) => l.text)).toEqual(['n0', 'n1', 'n2']);
    await second.close();
  });

  it('close stores lines still buffered', async () => {
    const sink = sinkWith({ flushIntervalMs: 5_000 });
    const id = newId();
    await sink.append(id, numbered(0, 1)); // the first write goes at once
    const late = sink.append(id, numbered(1, 1)); // this one waits for the interval...
    await sink.close(); // ...or for close
    await late;
    expect((await sinkWith().read(id)).map((l) => l.text)).toEqual(['n0', 'n1']);
  });

  it('is built from the app settings: none gives no sink; CORACLE_LOGS names Azurite', async () => {
    expect(await logSinkFromSettings({})).toBeUndefined();
    const sink = await logSinkFromSettings({ CORACLE_LOGS: azurite.connectionString });
    const id = newId();
    await sink!.append(id, numbered(0, 1));
    expect((await sinkWith().read(id)).map((l) => l.text)).toEqual(['n0']);
    await sink!.close?.();
  });
});

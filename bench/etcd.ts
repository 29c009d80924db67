/**
 * etcd as a benchmark baseline: a private etcd on loopback (temporary data folder, random ports),
 * driven through its v3 JSON gateway (`/v3/kv/txn`, `/v3/kv/range`, `/v3/watch`) with Node's fetch.
 * Its defaults are kept (it fsyncs every commit, batching concurrent ones), like the SQLite store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredValue } from '../shared/store/store.js';
import type { BenchTarget } from './targets.js';

const ETCD = process.env.ETCD_BIN ?? '/usr/bin/etcd';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();
/** The first key after every key that starts with `prefix` (prefixes here are ASCII). */
const prefixEnd = (prefix: string) => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** startEtcd starts etcd and returns it as a BenchTarget, or undefined when etcd is not installed. */
export async function startEtcd(): Promise<BenchTarget | undefined> {
  if (!existsSync(ETCD)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'coracle-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    ETCD,
    ['--name', 'bench', '--data-dir', join(dir, 'data'), '--logger', 'zap', '--log-level', 'error',
      '--listen-client-urls', base, '--advertise-client-urls', base,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `bench=${peer}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(base, child);
  } catch (err) {
    await stop();
    throw new Error(`etcd did not start: ${(err as Error).message}\n${stderr}`, { cause: err });
  }
  return etcdTarget(base, stop);
}

async function waitHealthy(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      const health = (await (await fetch(`${base}/health`)).json()) as { health?: string };
      if (health.health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('not healthy after 15 s');
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function post<T>(base: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`etcd ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function etcdTarget(base: string, stop: () => Promise<void>): BenchTarget {
  return {
    // create-if-absent, as the Store's create: a transaction comparing create_revision to 0.
    create: async (key, value) => {
      const txn = {
        compare: [{ key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
        success: [{ request_put: { key: b64(key), value: b64(JSON.stringify(value)) } }],
      };
      const result = await post<{ succeeded?: boolean }>(base, '/v3/kv/txn', txn);
      if (!result.succeeded) throw new Error(`etcd: ${key} already exists`);
    },
    list: async (prefix) => {
      const range = { key: b64(prefix), range_end: b64(prefixEnd(prefix)) };
      const result = await post<{ kvs?: { value: string }[] }>(base, '/v3/kv/range', range);
      return (result.kvs ?? []).map((kv) => JSON.parse(unb64(kv.value)) as StoredValue).length;
    },
    watch: (prefix, onPut, signal) => watchEtcd(base, prefix, onPut, signal),
    close: stop,
  };
}

interface WatchMessage {
  result?: { created?: boolean; events?: { type?: string; kv: { value: string } }[] };
}

/** watchEtcd opens a gateway watch stream (newline-delimited JSON) and resolves once it is created. */
async function watchEtcd(base: string, prefix: string, onPut: (v: StoredValue) => void, signal: AbortSignal) {
  const body = JSON.stringify({ create_request: { key: b64(prefix), range_end: b64(prefixEnd(prefix)) } });
  const response = await fetch(`${base}/v3/watch`, { method: 'POST', body, signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let created: () => void = () => {};
  const ready = new Promise<void>((resolve) => (created = resolve));
  void (async () => {
    let pending = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const lines = (pending + value).split('\n');
        pending = lines.pop()!;
        for (const line of lines.filter((l) => l.trim())) {
          const message = JSON.parse(line) as WatchMessage;
          if (message.result?.created) created();
          for (const e of message.result?.events ?? []) if (e.type !== 'DELETE') onPut(JSON.parse(unb64(e.kv.value)));
        }
      }
    } catch (err) {
      if (!signal.aborted) console.error('etcd watch failed:', err);
    }
  })();
  await ready;
}

/**
 * pods/log through the real API server handler (SQLite store) reading a real blob LogSink on
 * Azurite: lines are written through the sink, as an agent writes them, and read back with every
 * query option.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type Azurite } from '../local/azurite.js';
import { createBlobLogSink, type BlobLogSink } from '../adapters/logs/blob/index.js';
import type { LogLine, LogStreamId } from '../shared/logs/logsink.js';
import { pod, startApiServer, type Harness } from './support/apiserver.js';

jest.setTimeout(60_000);

let azurite: Azurite;
let dir: string;
let sink: BlobLogSink;
let h: Harness;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-logs-api-'));
  azurite = await startAzurite({ location: path.join(dir, 'azurite') });
  sink = createBlobLogSink({ connectionString: azurite.connectionString, pollIntervalMs: 50 });
  h = await startApiServer({ logSink: sink });
});
afterAll(async () => {
  await h?.close();
  await sink?.close();
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

const PODS = '/api/v1/namespaces/default/pods';
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const line = (minutesAgo: number, text: string, stream: LogLine['stream'] = 'stdout'): LogLine => ({ time: ago(minutesAgo), stream, text });

async function createPod(name: string, containers: string[] = ['c'], status?: Record<string, unknown>): Promise<string> {
  const created = await h.json('POST', PODS, pod(name, { spec: { nodeName: 'n1', containers: containers.map((c) => ({ name: c, image: 'busybox' })) } }));
  expect(created.status).toBe(201);
  if (status) {
    const updated = await h.json('PUT', `${PODS}/${name}/status`, { ...created.body, status });
    expect(updated.status).toBe(200);
  }
  return created.body.metadata.uid as string;
}

const stream = (name: string, uid: string, container = 'c', restart = 0): LogStreamId => ({ namespace: 'default', pod: name, podUid: uid, container, restart });

async function logs(name: string, query = ''): Promise<{ status: number; text: string; type: string | null }> {
  const res = await h.call('GET', `${PODS}/${name}/log${query}`);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

const running = (restartCount: number, extra: Record<string, unknown> = {}) =>
  ({ containerStatuses: [{ name: 'c', restartCount, ready: true, image: 'busybox', imageID: '', state: { running: { startedAt: ago(1) } }, ...extra }] });
const terminatedBefore = { lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'docker://x' } } };

describe('pods/log', () => {
  let uid: string;
  beforeAll(async () => {
    uid = await createPod('one');
    await sink.append(stream('one', uid), [line(120, 'two hours ago'), line(30, 'half an hour ago'), line(5, 'five minutes ago', 'stderr'), line(1, 'a minute ago')]);
  });

  it('answers the whole log as text/plain', async () => {
    const r = await logs('one');
    expect(r).toEqual({ status: 200, type: 'text/plain', text: 'two hours ago\nhalf an hour ago\nfive minutes ago\na minute ago\n' });
  });

  it('answers tailLines, sinceSeconds, sinceTime and their mix', async () => {
    expect((await logs('one', '?tailLines=2')).text).toBe('five minutes ago\na minute ago\n');
    expect((await logs('one', '?tailLines=0')).text).toBe('');
    expect((await logs('one', '?sinceSeconds=3600')).text).toBe('half an hour ago\nfive minutes ago\na minute ago\n');
    expect((await logs('one', `?sinceTime=${encodeURIComponent(ago(10))}`)).text).toBe('five minutes ago\na minute ago\n');
    expect((await logs('one', '?sinceSeconds=3600&tailLines=1')).text).toBe('a minute ago\n');
  });

  it('prefixes each line with its RFC 3339 time with timestamps=true', async () => {
    const text = (await logs('one', '?timestamps=true&tailLines=2')).text;
    const rows = text.trimEnd().split('\n');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z a minute ago$/);
    expect(Date.parse(rows[1]!.split(' ')[0]!)).toBeGreaterThan(Date.now() - 2 * 60_000);
  });

  it('cuts the output at limitBytes, timestamps included', async () => {
    expect((await logs('one', '?limitBytes=20')).text).toBe('two hours ago\nhalf a');
    const stamped = (await logs('one', '?limitBytes=30&timestamps=true')).text;
    expect(Buffer.byteLength(stamped)).toBe(30);
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('refuses bad options as Kubernetes does', async () => {
    expect((await h.json('GET', `${PODS}/one/log?tailLines=-1`)).body).toMatchObject({ code: 422, reason: 'Invalid' });
    const both = await h.json('GET', `${PODS}/one/log?sinceSeconds=10&sinceTime=${encodeURIComponent(ago(1))}`);
    expect(both.body.message).toContain('at most one of `sinceTime` or `sinceSeconds` may be specified');
    expect((await h.json('GET', `${PODS}/one/log?limitBytes=0`)).status).toBe(422);
    expect((await h.json('GET', `${PODS}/one/log?tailLines=ten`)).status).toBe(400);
    expect((await h.json('GET', `${PODS}/one/log?sinceTime=yesterday`)).status).toBe(400);
  });

  it('answers 404 for a pod that does not exist', async () => {
    const r = await h.json('GET', `${PODS}/nope/log`);
    expect(r.status).toBe(404);
    expect(r.body.message).toBe('pods "nope" not found');
  });

  it('needs a container name when the pod has several, and refuses an unknown one', async () => {
    const two = await createPod('two', ['a', 'b']);
    await sink.append(stream('two', two, 'b'), [line(1, 'from b')]);
    const missing = await h.json('GET', `${PODS}/two/log`);
    expect(missing.status).toBe(400);
    expect(missing.body.message).toBe('a container name must be specified for pod two, choose one of: [a b]');
    expect((await logs('two', '?container=b')).text).toBe('from b\n');
    expect((await logs('two', '?container=a')).text).toBe('');
    const unknown = await h.json('GET', `${PODS}/two/log?container=z`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe('container z is not valid for pod two');
  });

  it('reads the current instance by restartCount, and the one before with previous', async () => {
    const u = await createPod('restarted', ['c'], running(1, terminatedBefore));
    await sink.append(stream('restarted', u, 'c', 0), [line(3, 'first run')]);
    await sink.append(stream('restarted', u, 'c', 1), [line(1, 'second run')]);
    expect((await logs('restarted')).text).toBe('second run\n');
    expect((await logs('restarted', '?previous=true')).text).toBe('first run\n');
  });

  it('shows the dead instance while a container waits to restart (CrashLoopBackOff)', async () => {
    const u = await createPod('crashing', ['c'], {
      containerStatuses: [{ name: 'c', restartCount: 2, ready: false, image: 'busybox', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, ...terminatedBefore }],
    });
    await sink.append(stream('crashing', u, 'c', 1), [line(2, 'run 1')]);
    await sink.append(stream('crashing', u, 'c', 2), [line(1, 'run 2')]);
    expect((await logs('crashing')).text).toBe('run 2\n');
    expect((await logs('crashing', '?previous=true')).text).toBe('run 2\n');
  });

  it('answers 400 for previous without a terminated instance, and for a container still waiting', async () => {
    await createPod('fresh', ['c'], running(0));
    const prev = await h.json('GET', `${PODS}/fresh/log?previous=true`);
    expect(prev.status).toBe(400);
    expect(prev.body.message).toBe('previous terminated container "c" in pod "fresh" not found');
    await createPod('pulling', ['c'], {
      containerStatuses: [{ name: 'c', restartCount: 0, ready: false, image: 'busybox', imageID: '', state: { waiting: { reason: 'ImagePullBackOff' } } }],
    });
    const waiting = await h.json('GET', `${PODS}/pulling/log`);
    expect(waiting.status).toBe(400);
    expect(waiting.body.message).toBe('container "c" in pod "pulling" is waiting to start: trying and failing to pull image');
  });

  it('follows: streams what is there, then new lines, and ends when the container terminates', async () => {
    const u = await createPod('followed', ['c'], running(0));
    const id = stream('followed', u);
    await sink.append(id, [line(2, 'before')]);
    const res = await h.call('GET', `${PODS}/followed/log?follow=true`);
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let got = '';
    const until = async (text: string) => {
      while (!got.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before "${text}"; got ${JSON.stringify(got)}`);
        got += value;
      }
    };
    await until('before\n');
    await sink.append(id, [line(0, 'after')]);
    await until('after\n');
    const current = await h.json('GET', `${PODS}/followed`);
    const status = { containerStatuses: [{ ...running(0).containerStatuses[0], state: { terminated: { exitCode: 0, reason: 'Completed' } } }] };
    expect((await h.json('PUT', `${PODS}/followed/status`, { ...current.body, status })).status).toBe(200);
    await sink.append(id, [line(0, 'last words')]);
    const started = Date.now();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      got += value;
    }
    expect(got).toBe('before\nafter\nlast words\n');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops following when the client goes away', async () => {
    const u = await createPod('abandoned', ['c'], running(0));
    await sink.append(stream('abandoned', u), [line(1, 'x')]);
    const client = new AbortController();
    const res = await h.handler(new Request(`https://coracle.test${PODS}/abandoned/log?follow=1`, {
      headers: { authorization: 'Bearer test-admin-token' }, signal: client.signal,
    }));
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('x\n');
    const next = reader.read();
    client.abort();
    await reader.cancel();
    expect((await next).done).toBe(true);
  });

  it('answers 503 when the server has no log storage', async () => {
    const bare = await startApiServer();
    try {
      await bare.json('POST', PODS, pod('p'));
      expect((await bare.json('GET', `${PODS}/p/log`)).status).toBe(503);
    } finally {
      await bare.close();
    }
  });
});

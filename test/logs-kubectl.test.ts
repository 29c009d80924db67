/**
 * `kubectl logs` end to end on `coracle up`: pods are created with kubectl, their container
 * output is appended straight to the cluster's blob LogSink (on the Azurite `coracle up`
 * started, as an agent ships it), and kubectl reads it back with -c, --tail, --since,
 * --timestamps, --previous and -f. Needs dist/ (npm test builds it first).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createBlobLogSink, type BlobLogSink } from '../adapters/logs/blob/index.js';
import type { LogLine, LogStreamId } from '../shared/logs/logsink.js';
import { startCluster, type Cluster } from './support/cluster.js';
import { kubectl, kubectlPath } from './support/kubectl.js';

jest.setTimeout(120_000);

let cluster: Cluster;
let sink: BlobLogSink;

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const line = (minutesAgo: number, text: string): LogLine => ({ time: ago(minutesAgo), stream: 'stdout', text });
const k = (...args: string[]) => kubectl(args, { kubeconfig: cluster.kubeconfigPath });

async function uidOf(pod: string): Promise<string> {
  const r = await k('get', 'pod', pod, '-o', 'jsonpath={.metadata.uid}');
  expect(r.code).toBe(0);
  return r.stdout;
}

const stream = (pod: string, podUid: string, container: string, restart = 0): LogStreamId => ({ namespace: 'default', pod, podUid, container, restart });

function podYaml(name: string, containers: string[]): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { nodeName: 'logs-node', containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
  });
}

async function setStatus(pod: string, status: Record<string, unknown>): Promise<void> {
  const r = await k('patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status }));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

const containerStatus = (restartCount: number, state: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ containerStatuses: [{ name: 'c', restartCount, ready: true, image: 'busybox', imageID: '', state, ...extra }] });

/** followLogs runs `kubectl logs -f` and lets the test wait for text in its output. */
function followLogs(pod: string) {
  const child = spawn(kubectlPath(), ['--kubeconfig', cluster.kubeconfigPath, 'logs', '-f', pod], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    waiters.forEach((w) => w());
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (text: string, ms = 15_000) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl logs -f did not print "${text}"; printed ${JSON.stringify(out)}`)), ms);
    const check = () => {
      if (!out.includes(text)) return;
      clearTimeout(timer);
      resolve();
    };
    waiters.push(check);
    check();
  });
  return { child, exited, waitFor, output: () => out };
}

beforeAll(async () => {
  cluster = await startCluster();
  const connectionString = await readFile(path.join(cluster.dataDir, 'logs-connection-string'), 'utf8');
  sink = createBlobLogSink({ connectionString });
});
afterAll(async () => {
  await sink?.close();
  await cluster?.destroy();
});

describe('kubectl logs on coracle up', () => {
  let uid: string;
  beforeAll(async () => {
    expect((await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: podYaml('p', ['c']) })).code).toBe(0);
    uid = await uidOf('p');
    await sink.append(stream('p', uid, 'c'), [line(120, 'two hours ago'), line(30, 'half an hour ago'), line(2, 'two minutes ago'), line(1, 'a minute ago')]);
  });

  it('prints the log, its tail, what came since, and timestamps', async () => {
    expect(await k('logs', 'p')).toMatchObject({ code: 0, stdout: 'two hours ago\nhalf an hour ago\ntwo minutes ago\na minute ago\n' });
    expect((await k('logs', 'p', '--tail=2')).stdout).toBe('two minutes ago\na minute ago\n');
    expect((await k('logs', 'p', '--since=1h')).stdout).toBe('half an hour ago\ntwo minutes ago\na minute ago\n');
    const stamped = (await k('logs', 'p', '--timestamps', '--tail=1')).stdout;
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z a minute ago\n$/);
  });

  it('picks a container with -c, and defaults to the first one without it', async () => {
    expect((await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: podYaml('two', ['a', 'b']) })).code).toBe(0);
    const twoUid = await uidOf('two');
    await sink.append(stream('two', twoUid, 'a'), [line(1, 'from a')]);
    await sink.append(stream('two', twoUid, 'b'), [line(1, 'from b')]);
    expect((await k('logs', 'two', '-c', 'b')).stdout).toBe('from b\n');
    const defaulted = await k('logs', 'two');
    expect(defaulted.stdout).toBe('from a\n');
    expect(defaulted.stderr).toContain('Defaulted container "a" out of: a, b');
    const unknown = await k('logs', 'two', '-c', 'z');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('container z is not valid for pod two');
  });

  it('reads the previous instance with --previous, and says when there is none', async () => {
    const none = await k('logs', 'p', '--previous');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('previous terminated container "c" in pod "p" not found');
    expect((await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: podYaml('again', ['c']) })).code).toBe(0);
    const againUid = await uidOf('again');
    await sink.append(stream('again', againUid, 'c', 0), [line(3, 'first run')]);
    await sink.append(stream('again', againUid, 'c', 1), [line(1, 'second run')]);
    await setStatus('again', containerStatus(1, { running: { startedAt: ago(1) } }, { lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'docker://x' } } }));
    expect((await k('logs', 'again')).stdout).toBe('second run\n');
    expect((await k('logs', 'again', '--previous')).stdout).toBe('first run\n');
  });

  it('follows with -f: prints a line appended after it started, until stopped', async () => {
    const f = followLogs('p');
    try {
      await f.waitFor('a minute ago\n');
      await sink.append(stream('p', uid, 'c'), [line(0, 'appended while following')]);
      await f.waitFor('appended while following\n');
      expect(f.output()).toBe('two hours ago\nhalf an hour ago\ntwo minutes ago\na minute ago\nappended while following\n');
    } finally {
      f.child.kill('SIGTERM');
      await f.exited;
    }
  });

  it('ends -f by itself when the container terminates', async () => {
    expect((await kubectl(['apply', '-f', '-'], { kubeconfig: cluster.kubeconfigPath, input: podYaml('ending', ['c']) })).code).toBe(0);
    const endingUid = await uidOf('ending');
    await setStatus('ending', containerStatus(0, { running: { startedAt: ago(1) } }));
    await sink.append(stream('ending', endingUid, 'c'), [line(0, 'working')]);
    const f = followLogs('ending');
    try {
      await f.waitFor('working\n');
      await sink.append(stream('ending', endingUid, 'c'), [line(0, 'done')]);
      await setStatus('ending', containerStatus(0, { terminated: { exitCode: 0, reason: 'Completed' } }));
      expect(await f.exited).toBe(0);
      expect(f.output()).toBe('working\ndone\n');
    } finally {
      if (f.child.exitCode === null) f.child.kill('SIGTERM');
    }
  });
});

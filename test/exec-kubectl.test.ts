/**
 * Issue 17's streams with real kubectl v1.35 and real containers, on one `coracle up --nodes 2`
 * (moby runtime on a private dockerd) for the whole file: `kubectl exec` returns stdout and
 * stderr apart and the command's exit code; stdin reaches the command and its end is seen;
 * `exec -it` runs a shell under a pseudo-terminal (driven by test/support/pty-drive.py) that
 * follows a terminal resize; `kubectl cp` copies a file in and out; `kubectl attach` joins a
 * running container's output and input; `kubectl port-forward` carries 100 HTTP requests to a
 * web pod (SPDY inside a WebSocket, and plain SPDY); and the refusals are the Status errors upstream gives
 * (unknown pod, unknown container, pod without a node, container not running, a node identity,
 * a hollow node, a request that is not an upgrade). Every stream goes kubectl → stream gateway →
 * the tunnel the node's agent dialled out → Docker's exec API. Skipped, saying why, when no
 * dockerd can run here.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, execFile } from 'node:child_process';
import { get } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { clusterRequest, startCluster, startHollowNodes, type Cluster, type HollowNodes } from './support/cluster.js';
import { dockerUnavailable } from './support/docker.js';
import { kubectl, kubectlPath, type KubectlResult } from './support/kubectl.js';
import { until } from './support/until.js';

jest.setTimeout(180_000);

const why = dockerUnavailable();
const suite = why ? describe.skip : describe;
if (why) console.warn(`exec-kubectl: skipped: no Docker engine can run here (${why})`);

const PTY_DRIVE = path.join(path.dirname(new URL(import.meta.url).pathname), 'support', 'pty-drive.py');
let cluster: Cluster;
let hollow: HollowNodes | undefined;
let scratch: string;
const k = (args: string[], input?: string): Promise<KubectlResult> => kubectl(args, { kubeconfig: cluster.kubeconfigPath, input, timeoutMs: 90_000 });

async function nodeToken(node: string): Promise<string> {
  const line = (await readFile(path.join(cluster.dataDir, 'tokens.csv'), 'utf8')).split('\n').find((l) => l.split(',')[1] === `system:node:${node}`);
  if (!line) throw new Error(`no token for ${node}`);
  return line.split(',')[0]!;
}

/** podOn creates a pod of coracle/busybox running `script` on `node` and waits until it is Ready. */
async function podOn(name: string, node: string, script: string, extra: Record<string, unknown> = {}): Promise<void> {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'coracle/busybox', command: ['sh', '-c', script], ...extra }] },
  };
  const r = await k(['apply', '-f', '-'], JSON.stringify(pod));
  expect(r.stderr).toBe('');
  const ready = await k(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=90s']);
  expect(ready.stderr).toBe('');
}

/** httpGet fetches a URL on this machine (no proxy, a new connection each time) and resolves with its status and body. */
function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.once('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.once('error', reject);
  });
}

/** started runs kubectl in the background and lets the test wait for text in its output. */
function started(args: string[], env: Readonly<Record<string, string>> = {}) {
  const child = spawn(kubectlPath(), ['--kubeconfig', cluster.kubeconfigPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out, waitFor: (text: string) => until(`kubectl ${args[0]} to print "${text}"`, async () => out.includes(text), 60_000) };
}

suite('kubectl exec, cp, attach and port-forward on real containers', () => {
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'coracle-exec-'));
    cluster = await startCluster({ nodes: 2, timeoutMs: 120_000 });
    // `mkdir /tmp`: the sample images are busybox FROM scratch, with no /tmp of their own.
    await Promise.all([
      podOn('shell', 'node-1', 'mkdir -p /tmp; trap "exit 0" TERM; while true; do sleep 1; done'),
      podOn('ticker', 'node-2', 'i=0; trap "exit 0" TERM; while true; do i=$((i+1)); echo tick-$i; sleep 1; done'),
      podOn('reader', 'node-2', 'while read line; do echo got-$line; done; echo eof; sleep 3600', { stdin: true }),
      podOn('once', 'node-2', 'while read line; do echo got-$line; done; echo stdin-closed; sleep 3600', { stdin: true, stdinOnce: true }),
      podOn('web', 'node-2', 'mkdir -p /tmp/w; hostname > /tmp/w/index.html; exec httpd -f -p 8080 -h /tmp/w'),
    ]);
  }, 170_000);

  afterAll(async () => {
    await hollow?.stop();
    await cluster?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('runs a command: stdout and stderr apart, and kubectl exits with its exit code', async () => {
    const r = await k(['exec', 'shell', '--', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    expect(r.stdout).toBe('to-out\n');
    expect(r.stderr).toBe('to-err\ncommand terminated with exit code 3\n');
    expect(r.code).toBe(3);
    const ok = await k(['exec', 'shell', '-c', 'main', '--', 'hostname']);
    expect(ok).toEqual({ code: 0, stdout: 'shell\n', stderr: '' });
  });

  it('feeds stdin to the command, which sees its end (exec -i)', async () => {
    const r = await k(['exec', '-i', 'shell', '--', 'sh', '-c', 'wc -l; echo after-eof'], 'one\ntwo\nthree\n');
    expect(r.stderr).toBe('');
    expect(r.stdout.replace(/ +/g, '')).toBe('3\nafter-eof\n');
    expect(r.code).toBe(0);
  });

  it('runs an interactive shell under a pseudo-terminal that follows a resize (exec -it)', async () => {
    const steps = [
      { size: [30, 100] }, { wait: '# ' },
      { send: 'stty size; tty; echo sum-$((6*7))\r' }, { wait: 'sum-42' },
      { size: [40, 120] }, { send: 'stty size\r' }, { wait: '40 120' },
      { send: 'exit 7\r' },
    ];
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve, reject) => {
      execFile('python3', [PTY_DRIVE, JSON.stringify(steps), '--', kubectlPath(), '--kubeconfig', cluster.kubeconfigPath, 'exec', '-it', 'shell', '--', 'sh'],
        { timeout: 120_000 }, (err, out) => (err && typeof err.code !== 'number' ? reject(err) : resolve({ stdout: out, code: err ? Number(err.code) : 0 })));
    });
    expect(stdout).toContain('30 100\r\n');
    expect(stdout).toMatch(/\/dev\/pts\/\d+\r\n/);
    expect(stdout).toContain('sum-42\r\n');
    expect(stdout).toContain('40 120\r\n');
    expect(stdout).toContain('command terminated with exit code 7');
    expect(code).toBe(7);
  });

  it('copies a file into the container and back out (kubectl cp)', async () => {
    const local = path.join(scratch, 'in.bin');
    const back = path.join(scratch, 'out.bin');
    const content = randomBytes(2 * 1024 * 1024);
    await writeFile(local, content);
    const into = await k(['cp', local, 'shell:/tmp/copied.bin']);
    expect(into.code).toBe(0);
    const size = await k(['exec', 'shell', '--', 'sh', '-c', 'wc -c < /tmp/copied.bin']);
    expect(size.stdout.trim()).toBe(String(content.length));
    const out = await k(['cp', 'shell:/tmp/copied.bin', back]);
    expect(out.code).toBe(0);
    expect((await readFile(back)).equals(content)).toBe(true);
  });

  it('attaches to a running container: its output, and input to a container with stdin (kubectl attach)', async () => {
    const watching = started(['attach', 'ticker']);
    await watching.waitFor('tick-');
    watching.child.kill('SIGINT');
    await watching.exited;
    const talking = started(['attach', '-i', 'reader']);
    await talking.waitFor('If you don\'t see a command prompt');
    talking.child.stdin.write('hello\n');
    await talking.waitFor('got-hello');
    talking.child.kill('SIGINT');
    await talking.exited;
  });

  it("closes a stdinOnce container's stdin when its first attached client leaves, and keeps a plain stdin open (kubectl attach -i)", async () => {
    const first = started(['attach', '-i', 'once']);
    await first.waitFor('If you don\'t see a command prompt');
    first.child.stdin.write('hello\n');
    await first.waitFor('got-hello');
    first.child.stdin.end(); // the client's stdin ends: the container's closes with it
    await until('the stdinOnce container to see the end of its stdin', async () => (await k(['logs', 'once'])).stdout.includes('stdin-closed'), 60_000);
    first.child.kill('SIGINT');
    await first.exited;
    expect((await k(['logs', 'once'])).stdout).toBe('got-hello\nstdin-closed\n');
    // The reader (stdin without stdinOnce) was attached and left in the test before: its stdin is still open.
    expect((await k(['logs', 'reader'])).stdout).not.toContain('eof');
  });

  it('forwards a local port to the pod: 100 HTTP requests pass, over WebSocket and over SPDY (kubectl port-forward)', async () => {
    // kubectl v1.35 tunnels SPDY inside a WebSocket; KUBECTL_PORT_FORWARD_WEBSOCKETS=false makes it speak plain SPDY, its fallback.
    for (const [env, requests] of [[{}, 100], [{ KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, 10]] as const) {
      const forwarding = started(['port-forward', 'pod/web', ':8080'], env);
      await forwarding.waitFor('Forwarding from 127.0.0.1:');
      const port = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(forwarding.output())![1];
      const answers: Array<{ status: number; body: string }> = [];
      for (let i = 0; i < requests; i++) answers.push(await httpGet(`http://127.0.0.1:${port}/`));
      expect(answers.filter((a) => a.status === 200 && a.body === 'web\n')).toHaveLength(requests);
      forwarding.child.kill('SIGINT');
      await forwarding.exited;
    }
    // A port nothing listens on: kubectl reports the error stream's message, as with upstream's kubelet.
    const closed = started(['port-forward', 'pod/web', ':9999']);
    await closed.waitFor('Forwarding from 127.0.0.1:');
    const port = /Forwarding from 127\.0\.0\.1:(\d+) -> 9999/.exec(closed.output())![1];
    await httpGet(`http://127.0.0.1:${port}/`).catch(() => undefined);
    await closed.waitFor('error forwarding port 9999 to pod web');
    closed.child.kill('SIGINT');
    await closed.exited;
  });

  it('answers unknown pods and containers, and pods without a running container, with upstream\'s Status errors', async () => {
    const missing = await k(['exec', 'nope', '--', 'true']);
    expect(missing.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
    expect(missing.code).toBe(1);
    const container = await k(['exec', 'shell', '-c', 'bogus', '--', 'true']);
    expect(container.stderr).toBe('Error from server (BadRequest): container bogus is not valid for pod shell\n');
    const unbound = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unbound' }, spec: { nodeSelector: { nowhere: 'true' }, containers: [{ name: 'main', image: 'coracle/busybox' }] } };
    expect((await k(['apply', '-f', '-'], JSON.stringify(unbound))).code).toBe(0);
    const noHost = await k(['exec', 'unbound', '--', 'true']);
    expect(noHost.stderr).toBe('Error from server (BadRequest): pod unbound does not have a host assigned\n');
    // Bound, but its container waits behind an init container that never ends.
    const waiting = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'waiting' },
      spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 1, initContainers: [{ name: 'init', image: 'coracle/busybox', command: ['sleep', '3600'] }], containers: [{ name: 'main', image: 'coracle/busybox' }] },
    };
    expect((await k(['apply', '-f', '-'], JSON.stringify(waiting))).code).toBe(0);
    await until('the waiting pod to be initializing', async () => (await k(['get', 'pod', 'waiting', '-o', 'jsonpath={.status.initContainerStatuses[0].state.running}'])).stdout !== '');
    const notRunning = await k(['exec', 'waiting', '-c', 'main', '--', 'true']);
    expect(notRunning.stderr).toBe('Error from server (BadRequest): unable to upgrade connection: container not found ("main")\n');
    const plain = await clusterRequest(cluster, '/api/v1/namespaces/default/pods/shell/exec?command=true&stdout=true', { method: 'POST', token: cluster.token });
    expect(plain.status).toBe(400);
    expect(JSON.parse(plain.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: 'Upgrade request required', code: 400 });
  });

  it('refuses a node identity (pods/exec is its own permission) and says a hollow node has no tunnel', async () => {
    const token = await nodeToken('node-1');
    // Another node's pod: kubectl cannot even read it (as upstream's node authorizer answers).
    const other = await kubectl(['--token', token, 'exec', 'ticker', '--', 'true'], { kubeconfig: cluster.kubeconfigPath });
    expect(other.stderr).toBe('Error from server (Forbidden): pods "ticker" is forbidden: User "system:node:node-1" cannot get resource "pods" in API group "" in the namespace "default": no relationship found between node \'node-1\' and this object\n');
    expect(other.code).toBe(1);
    // Its own pod, which it may read: the stream itself is refused, with RBAC's words (no reason).
    const own = await kubectl(['--token', token, 'exec', 'shell', '--', 'true'], { kubeconfig: cluster.kubeconfigPath });
    expect(own.stderr).toBe('Error from server (Forbidden): pods "shell" is forbidden: User "system:node:node-1" cannot create resource "pods/exec" in API group "" in the namespace "default"\n');
    expect(own.code).toBe(1);
    hollow = await startHollowNodes(cluster, 1, 10, 'hollow-exec');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'simulated' }, spec: { nodeName: hollow.names[0], containers: [{ name: 'main', image: 'coracle/busybox' }] } };
    expect((await k(['apply', '-f', '-'], JSON.stringify(pod))).code).toBe(0);
    await k(['wait', '--for=condition=Ready', 'pod/simulated', '--timeout=60s']);
    const r = await k(['exec', 'simulated', '--', 'true']);
    expect(r.stderr).toBe(`Error from server (InternalError): error dialing backend: node "${hollow.names[0]}" has no stream tunnel open (hollow nodes have none; a node's agent opens it when it starts)\n`);
    expect(r.code).toBe(1);
  });
});
